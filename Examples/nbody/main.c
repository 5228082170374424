/* n-body benchmark driver: `app [steps]` prints the system's energy before and after. */
#include <stdio.h>
#include <stdlib.h>
#include "nbody.h"

#ifdef __popcorn__
#include <popcorn.h>
/* Built by popcorn-cc: say on stderr which ISA runs each report (stdout stays identical). */
#define SHOW_ISA() fprintf(stderr, "             (running on %s)\n", popcorn_isa_name(popcorn_current_isa()))
#else
#define SHOW_ISA() ((void)0)
#endif

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 100000;
    if (steps < 0) {
        fprintf(stderr, "usage: %s [steps]\n", argv[0]);
        return 2;
    }
    body bodies[NBODIES];
    nbody_init(bodies);
    printf("steps: %d\n", steps);
    printf("energy before: %.9f\n", nbody_energy(bodies, NBODIES));
    for (int i = 0; i < steps; i++) {
        nbody_advance(bodies, NBODIES, 0.01);
        if (steps >= 10 && i % (steps / 10) == 0) {
            printf("  step %7d: energy %.9f\n", i, nbody_energy(bodies, NBODIES));
            fflush(stdout);
            SHOW_ISA();
        }
    }
    printf("energy after:  %.9f\n", nbody_energy(bodies, NBODIES));
    return 0;
}
