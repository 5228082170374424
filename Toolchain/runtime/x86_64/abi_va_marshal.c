/*
 * va_list conversion for the x86_64 shims.
 *
 * On x86_64 the program's aarch64-format va_list is built from a native one (see
 * docs/ARCHITECTURE.md, "One IR, two ABIs"), so the plain conversion just inverts that mapping.
 * It is exact for every argument except long double: the program passes binary128 values in
 * vector registers (x86_64's __float128 convention), while x86_64 libc reads an x87 value from
 * the stack area.  For formats with L conversions the argument list is therefore rebuilt from
 * the format's plan: integers and doubles copied slot for slot, long doubles converted to x87
 * and placed in the overflow area where va_arg(ap, long double) looks for them.  scanf gets
 * x87 scratch variables in place of the program's long double pointers, converted back after
 * the call.
 */
#include "va_support.h"

#include <string.h>

void __popcorn_va_to_native(va_list out, const struct popcorn_a64_va_list *in)
{
    struct popcorn_x86_va_tag *tag = (struct popcorn_x86_va_tag *)(void *)out;
    unsigned char *save = (unsigned char *)in->__gr_top - POPCORN_X86_GP_SAVE;
    tag->reg_save_area = save;
    tag->gp_offset = (uint32_t)(in->__gr_offs + POPCORN_X86_GP_SAVE);
    tag->fp_offset = (uint32_t)(in->__vr_offs + POPCORN_X86_REG_SAVE);
    tag->overflow_arg_area = in->__stack;
}

/* Appends to a rebuilt list, filling register slots first as a real x86_64 caller would. */
struct builder {
    struct popcorn_va_frame *frame;
    unsigned gp, fp;
    size_t overflow;
};

static void put_gp(struct builder *b, const void *slot)
{
    if (b->gp < POPCORN_X86_GP_SAVE / 8) {
        memcpy(b->frame->registers + b->gp++ * 8, slot, 8);
    } else {
        memcpy(b->frame->overflow + b->overflow, slot, 8);
        b->overflow += 8;
    }
}

static void put_fp(struct builder *b, double value)
{
    if (b->fp < (POPCORN_X86_REG_SAVE - POPCORN_X86_GP_SAVE) / 16) {
        unsigned char *slot = b->frame->registers + POPCORN_X86_GP_SAVE + b->fp++ * 16;
        memset(slot, 0, 16);
        memcpy(slot, &value, sizeof value);
    } else {
        memcpy(b->frame->overflow + b->overflow, &value, sizeof value);
        b->overflow += 8;
    }
}

/* x86_64 passes long double in memory only, 16-byte aligned. */
static void put_long_double(struct builder *b, long double value)
{
    b->overflow = (b->overflow + 15) & ~(size_t)15;
    memset(b->frame->overflow + b->overflow, 0, 16);
    memcpy(b->frame->overflow + b->overflow, &value, 10);
    b->overflow += 16;
}

static void start(struct builder *b, struct popcorn_va_frame *frame)
{
    b->frame = frame;
    b->gp = b->fp = 0;
    b->overflow = 0;
    frame->fixups = 0;
}

static void publish(struct builder *b)
{
    struct popcorn_x86_va_tag *tag = (struct popcorn_x86_va_tag *)(void *)b->frame->ap;
    tag->gp_offset = 0;
    tag->fp_offset = POPCORN_X86_GP_SAVE;
    tag->reg_save_area = b->frame->registers;
    tag->overflow_arg_area = b->frame->overflow;
}

void __popcorn_va_prepare_printf(struct popcorn_va_frame *frame, const void *format, int wide,
                               const struct popcorn_a64_va_list *in)
{
    struct popcorn_va_plan plan;
    frame->fixups = 0;
    if (__popcorn_printf_plan(format, wide, &plan) != 0 || plan.long_doubles == 0) {
        __popcorn_va_to_native(frame->ap, in);
        return;
    }
    va_list source;
    __popcorn_va_to_native(source, in);
    struct builder b;
    start(&b, frame);
    for (int i = 0; i < plan.count; i++) {
        switch (plan.classes[i]) {
        case POPCORN_VA_GP: {
            unsigned long slot = va_arg(source, unsigned long);
            put_gp(&b, &slot);
            break;
        }
        case POPCORN_VA_FP:
            put_fp(&b, va_arg(source, double));
            break;
        case POPCORN_VA_LDBL:
            put_long_double(&b, (long double)va_arg(source, __float128));
            break;
        }
    }
    va_end(source);
    publish(&b);
}

/* A bit pattern strtold never produces (an x87 "unnormal"): marks an unassigned scratch. */
static const unsigned char unassigned[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x40};

void __popcorn_va_prepare_scanf(struct popcorn_va_frame *frame, const void *format, int wide,
                              const struct popcorn_a64_va_list *in)
{
    struct popcorn_va_plan plan;
    frame->fixups = 0;
    if (__popcorn_scanf_plan(format, wide, &plan) != 0 || plan.long_doubles == 0) {
        __popcorn_va_to_native(frame->ap, in);
        return;
    }
    va_list source;
    __popcorn_va_to_native(source, in);
    struct builder b;
    start(&b, frame);
    for (int i = 0; i < plan.count; i++) {
        void *pointer = va_arg(source, void *);
        if (plan.classes[i] == POPCORN_VA_LDBL) {
            int k = frame->fixups++;
            memset(&frame->fixup[k].scratch, 0, sizeof frame->fixup[k].scratch);
            memcpy(&frame->fixup[k].scratch, unassigned, sizeof unassigned);
            frame->fixup[k].target = pointer;
            pointer = &frame->fixup[k].scratch;
        }
        put_gp(&b, &pointer);
    }
    va_end(source);
    publish(&b);
}

void __popcorn_va_finish_scanf(struct popcorn_va_frame *frame)
{
    for (int k = 0; k < frame->fixups; k++) {
        if (memcmp(&frame->fixup[k].scratch, unassigned, sizeof unassigned) != 0)
            *frame->fixup[k].target = (__float128)frame->fixup[k].scratch;
    }
    frame->fixups = 0;
}
