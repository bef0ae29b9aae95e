/* Fixed-size ring buffer of bytes. */
#include <stdlib.h>
#include <string.h>
#include "ringbuf.h"

#define RB_MIN_CAPACITY 16
#define RB_MASK(rb, i) ((i) & ((rb)->capacity - 1))

/* A ring buffer; capacity is a power of two. */
typedef struct ringbuf {
    unsigned char *data;
    size_t capacity;
    size_t head;
    size_t tail;
} ringbuf_t;

enum rb_status { RB_OK = 0, RB_FULL, RB_EMPTY };

static size_t next_pow2(size_t n);

/* Allocate a buffer holding at least `capacity` bytes. */
ringbuf_t *rb_new(size_t capacity)
{
    ringbuf_t *rb = calloc(1, sizeof *rb);
    if (rb == NULL) {
        return NULL;
    }
    rb->capacity = next_pow2(capacity < RB_MIN_CAPACITY ? RB_MIN_CAPACITY : capacity);
    rb->data = malloc(rb->capacity);
    if (rb->data == NULL) {
        free(rb);
        return NULL;
    }
    return rb;
}

void rb_free(ringbuf_t *rb)
{
    if (rb != NULL) {
        free(rb->data);
        free(rb);
    }
}

size_t rb_used(const ringbuf_t *rb)
{
    return rb->head - rb->tail;
}

/* Append one byte; RB_FULL when there is no room. */
enum rb_status rb_push(ringbuf_t *rb, unsigned char byte)
{
    if (rb_used(rb) == rb->capacity) {
        return RB_FULL;
    }
    rb->data[RB_MASK(rb, rb->head++)] = byte;
    return RB_OK;
}

enum rb_status rb_pop(ringbuf_t *rb, unsigned char *out)
{
    if (rb_used(rb) == 0) {
        return RB_EMPTY;
    }
    *out = rb->data[RB_MASK(rb, rb->tail++)];
    return RB_OK;
}

static size_t next_pow2(size_t n)
{
    size_t p = 1;
    while (p < n) {
        p <<= 1;
    }
    return p;
}
