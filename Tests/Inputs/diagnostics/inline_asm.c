/* Inline assembly cannot be lowered to every ISA: popcorn-cc must name this file and line 5.
 * (An empty barrier such as asm volatile("" : "+r"(x)) emits nothing and is accepted.) */
int main(void) {
    int x = 1;
    __asm__ volatile("add %w0, %w0, #1" : "+r"(x));
    return x - 2;
}
