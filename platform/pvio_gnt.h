/*
 * Grant tables: one API over the xen and sim platforms, shaped after
 * libxengnttab (xengntshr_* for the granting side, xengnttab_* for the
 * mapping and copying side) so that the xen implementation is a thin wrapper.
 *
 * All functions return 0 (or a count) on success and a negative errno on
 * failure, with the same meaning on both platforms (proven against Xen 4.17
 * and Linux's gntdev and gntalloc: tests/xen/test_platform_xen.c):
 *   -ESRCH   (share, map) a domain id from DOMID_FIRST_RESERVED up
 *   -EINVAL  bad count or address, unshare/unmap of a range that is not
 *            one share or mapping (twice included), and every map the
 *            hypervisor refuses: bad or never granted reference, a grant
 *            for another domain, a writable map of a read-only grant, no
 *            such domain (Linux's gntdev reports all of them so; grant
 *            copy's per-segment status tells them apart)
 *   -ENOSPC  no free grant reference, or more pages at once than the
 *            platform lets one share hold (the sim's table: 4088; Linux's
 *            gntalloc: its `limit` module parameter, 1024 by default, for
 *            all of a domain's shares through it)
 * Ending access to pages the peer still maps is deferred, not refused:
 * unshare returns 0 and the pages stay valid for the peer until it unmaps.
 * Grant copy reports one GNTST_* status per segment, Xen's codes
 * (xen/grant_table.h): GNTST_bad_domain, GNTST_bad_gntref (reference out of
 * range), GNTST_general_error (not granted, granted to another domain, or a
 * write into a read-only grant), GNTST_bad_copy_arg (a foreign side past
 * its page, or no foreign side at all).
 */
#ifndef PVIO_GNT_H
#define PVIO_GNT_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xengnttab.h>

#include "pvio_platform.h"

#define PVIO_GNT_PAGE_BYTES 4096u

struct pvio_gntshr; /* granting side */
struct pvio_gnttab; /* mapping and copying side */

/*
 * A grant copy segment is libxengnttab's: flags GNTCOPY_source_gref and/or
 * GNTCOPY_dest_gref select which side is a foreign {ref, offset, domid}; the
 * other side is a local pointer (it may cross pages). offset + len must not
 * exceed a page on a foreign side. status receives GNTST_*.
 */
typedef xengnttab_grant_copy_segment_t pvio_gnt_copy_seg_t;

/* Open a granting handle on platform (PVIO_PLATFORM_AUTO to resolve). */
int pvio_gntshr_open(enum pvio_platform platform, struct pvio_gntshr **out);

/* Close; pages still shared are unshared (deferred if still mapped). */
void pvio_gntshr_close(struct pvio_gntshr *h);

/*
 * Share count fresh zeroed pages with domid, writable or read-only. Fills
 * refs[count] and *addr with a contiguous local mapping of the pages.
 */
int pvio_gntshr_share(struct pvio_gntshr *h, domid_t domid, uint32_t count,
		      bool writable, grant_ref_t *refs, void **addr);

/*
 * End access to the pages shared at addr (count must match the share) and
 * unmap them locally. Pages the peer still has mapped are not freed under
 * it: their end is deferred (0 is still returned) and retried by
 * pvio_gntshr_reclaim() and every later share/unshare/close (sim) or by the
 * kernel (xen, within about a second of the peer's unmap).
 */
int pvio_gntshr_unshare(struct pvio_gntshr *h, void *addr, uint32_t count);

/* Retry deferred ends of access; returns how many this handle still has
 * to retry (always 0 on xen, where the kernel keeps them). */
int pvio_gntshr_reclaim(struct pvio_gntshr *h);

/* Open a mapping/copying handle on platform. */
int pvio_gnttab_open(enum pvio_platform platform, struct pvio_gnttab **out);

/* Close; remaining mappings are unmapped. */
void pvio_gnttab_close(struct pvio_gnttab *h);

/*
 * Map count grant references of domid into one contiguous local range,
 * writable or read-only. All or nothing.
 */
int pvio_gnttab_map(struct pvio_gnttab *h, domid_t domid, uint32_t count,
		    const grant_ref_t *refs, bool writable, void **addr);

/* Unmap a range returned by pvio_gnttab_map (count must match). */
int pvio_gnttab_unmap(struct pvio_gnttab *h, void *addr, uint32_t count);

/*
 * Grant copy count segments. Returns 0 when the batch was processed (look at
 * each segment's status) or a negative errno when it could not be at all.
 */
int pvio_gnttab_copy(struct pvio_gnttab *h, uint32_t count,
		     pvio_gnt_copy_seg_t *segs);

/* Text for a GNTST_* status ("permission denied"). */
const char *pvio_gnt_status_str(int16_t status);

#endif
