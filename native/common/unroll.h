// ST_UNROLL: full unrolling of a compile-time register loop (without it GCC keeps larger accumulator arrays on
// the stack). Put it on the line before the `for`.
#pragma once

#if defined(__clang__)
#define ST_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define ST_UNROLL _Pragma("GCC unroll 16")
#else
#define ST_UNROLL
#endif
