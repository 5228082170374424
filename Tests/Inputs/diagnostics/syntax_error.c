/* A C syntax error: clang's diagnostic with file:line must come through, exit status 1. */
int main(void) {
    int x = 1
    return x;
}
