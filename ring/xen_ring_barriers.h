/*
 * Barriers for code that drives a ring with Xen's own ring.h macros (the
 * interoperability tests and the benchmark baseline). ring.h leaves mb(),
 * rmb() and wmb() to its user; these are the C11 fences with the meaning
 * ring.h expects.
 */
#ifndef PVIO_XEN_RING_BARRIERS_H
#define PVIO_XEN_RING_BARRIERS_H

#ifndef mb
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#ifndef rmb
#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#ifndef wmb
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#endif
