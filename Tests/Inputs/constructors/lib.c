#include <stdio.h>
__attribute__((constructor(150))) static void lib_c150(void) { printf("ctor 150 lib.c\n"); }
__attribute__((constructor(300))) static void lib_c300(void) { printf("ctor 300 lib.c\n"); }
__attribute__((destructor(120))) static void lib_d120(void) { printf("dtor 120 lib.c\n"); }
__attribute__((destructor(250))) static void lib_d250(void) { printf("dtor 250 lib.c\n"); }
