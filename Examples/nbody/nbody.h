#ifndef NBODY_H
#define NBODY_H

typedef struct {
    double x, y, z;
    double vx, vy, vz;
    double mass;
} body;

enum { NBODIES = 5 };

void nbody_init(body *bodies);
void nbody_advance(body *bodies, int n, double dt);
double nbody_energy(const body *bodies, int n);

#endif
