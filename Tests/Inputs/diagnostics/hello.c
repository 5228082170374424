#include <stdio.h>
#include <popcorn.h>

int main(void) {
    printf("hello from %s\n", "popcorn");
    return 0;
}
