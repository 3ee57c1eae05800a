// <immintrin.h> for the x86 kernel files, with GCC 12's false uninitialized-use warnings silenced in its text only.
#pragma once
// GCC 12's avx512fintrin.h builds its "undefined" vectors by initialising a variable from itself
// (`__m512 __Y = __Y;`), and with -O3 every inlined masked or reducing intrinsic reports that line as
// -Wmaybe-uninitialized or -Wuninitialized: about 2,100 warnings per addon build, all at the header's own lines
// (GCC bug 105593, fixed in GCC 13 with the same pragmas inside the header). Diagnostic pragmas apply to source
// locations, so ignoring the two warnings around the include silences them for the header's code alone; our kernels'
// own code stays checked. Include this file instead of <immintrin.h>, before anything that might include that.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
