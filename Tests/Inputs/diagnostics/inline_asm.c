/* Inline assembly cannot be lowered to every ISA: popcorn-cc must name this file and line 5. */
int main(void) {
    int x = 1;
    /* the next line is the unsupported construct */
    __asm__ volatile("" : "+r"(x));
    return x - 1;
}
