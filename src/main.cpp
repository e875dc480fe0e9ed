#include <malloc.h>

#include "catalog/cli/commands.hpp"

namespace {

// glibc returns a heap's free top to the kernel past 128 KiB (its default
// trim threshold), so every response body of 40-100 KB was freed back with
// madvise and faulted in again by the next request: a tenth of a list
// page's CPU. Keeping up to 4 MiB free per heap ends that. Setting either
// threshold also stops glibc from raising the mmap threshold by itself (up
// to 32 MiB), so it is fixed too: below 4 MiB from the heaps, from 4 MiB up
// (spill buffers, upload parts: a few per run, not per request) mapped and
// returned on their own.
void tune_malloc() {
  mallopt(M_TRIM_THRESHOLD, 4 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  tune_malloc();
  return catalog::cli::run(argc, argv);
}
