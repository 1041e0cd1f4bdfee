/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM is written by the guest's harts while other threads read it on
 * purpose: live migration and state files copy pages that may change under
 * them, and the dirty-page log (not a lock) is what makes that correct.
 * Under ThreadSanitizer those reads are excluded from race detection, or
 * every page copied would be reported.  Elsewhere these cost nothing.
 */
#ifndef WIRT_UTIL_TSAN_H
#define WIRT_UTIL_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define WIRT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WIRT_TSAN 1
#endif
#endif

#ifdef WIRT_TSAN
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
#define GUEST_RAM_READS_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define GUEST_RAM_READS_END()   AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define GUEST_RAM_READS_BEGIN() ((void)0)
#define GUEST_RAM_READS_END()   ((void)0)
#endif

#endif
