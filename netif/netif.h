/*
 * netif/: the Xen netif protocol, pure. What pvio-netback and pvio-netfront
 * both need to speak xen/io/netif.h lives here once, with no I/O and no
 * platform calls, so that it is unit-tested and fuzzed alone.
 *
 * Every function works on private copies (never on shared memory): the
 * caller copies requests or responses out of the ring first (XSA-155).
 *
 * Structures are Xen's own, from the installed headers; this header only
 * adds the verdicts, the packet descriptions and the feature sets.
 */
#ifndef PVIO_NETIF_H
#define PVIO_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_net.h>
#include <sys/uio.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/io/netif.h>

#define NETIF_PAGE_BYTES 4096u
#define NETIF_ETH_HLEN	 14u
/*
 * Linux netback's fatal_skb_slots default: a packet that claims more data
 * slots than this marks the frontend as malicious and disables the vif.
 * Between XEN_NETIF_NR_SLOTS_MIN + 1 and this many the packet is dropped
 * with error responses and the vif stays.
 */
#define NETIF_TX_FATAL_SLOT_COUNT 20u
/* Extra-info slots a packet may chain: one of each defined type at most. */
#define NETIF_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)
/* Ring slots one TX packet can take before the parser gives up (fatal). */
#define NETIF_TX_MAX_PACKET_SLOTS (NETIF_TX_FATAL_SLOT_COUNT + NETIF_MAX_EXTRAS)

/*
 * The smallest MSS a GSO packet may carry to a TAP (Linux's TCP_MIN_MSS):
 * a smaller one from a peer would have the kernel cut 64 KiB into
 * thousands of segments wherever it must segment.
 */
#define NETIF_GSO_MIN_MSS 88u

/* ---- features and xenstore keys ---- */

/*
 * A feature set: what a backend offers, what a frontend supports, or what
 * the two negotiated. ipv4_csum is true unless feature-no-csum-offload=1
 * (netif.h: its absence means a frontend accepts csum_blank packets).
 */
struct netif_features {
	bool rx_copy;	   /* feature-rx-copy / request-rx-copy */
	bool rx_notify;	   /* feature-rx-notify */
	bool sg;	   /* feature-sg */
	bool ipv4_csum;	   /* !feature-no-csum-offload */
	bool ipv6_csum;	   /* feature-ipv6-csum-offload */
	bool gso_tcpv4;	   /* feature-gso-tcpv4 */
	bool gso_tcpv6;	   /* feature-gso-tcpv6 */
	bool split_evtchn; /* feature-split-event-channels */
	bool mcast_ctrl;   /* feature-multicast-control /
			      request-multicast-control */
	bool ctrl_ring;	   /* feature-ctrl-ring */
	/* feature-pvio-persistent-grants, a pvio extension (both pvio ends
	 * write it; Linux's drivers do not): the frontend keeps every TX
	 * and RX buffer granted for the whole connection, so the backend
	 * may keep mappings of them across packets. */
	bool persistent_grants;
	unsigned max_queues; /* multi-queue-max-queues; 0 or 1: one queue */
};

/*
 * The most queues a pvio driver sets up on one vif (either side's
 * multi-queue-max-queues / -num-queues is capped here): each queue costs a
 * ring pair, its buffer pools and a thread or worker slot.
 */
#define NETIF_QUEUES_MAX 16u

/* One xenstore key a driver writes in its own directory. */
struct netif_key_value {
	char key[40];	/* relative to the device directory ("queue-N/...") */
	char value[24]; /* decimal */
};

/* Enough for every key either side writes: the features, and four keys
 * per queue. */
#define NETIF_MAX_KEYS (16u + 4u * NETIF_QUEUES_MAX)

/*
 * Reads key (relative to the peer's device directory) into value (size
 * bytes, nul-terminated). Returns 1 when it exists, 0 when it does not, or a
 * negative errno (the parse then fails with that errno).
 */
typedef int (*netif_read_key_fn)(void *ctx, const char *key, char *value,
				 size_t size);

/* What was wrong with a key the peer wrote: named in logs and errors. */
struct netif_key_error {
	char key[48];	 /* the key, relative to the peer's directory */
	char value[48];	 /* what it held (truncated), "" when missing */
	const char *why; /* static text: "missing", "not 0 or 1", ... */
};

/*
 * The keys a backend writes to advertise offer (feature-rx-copy=1,
 * feature-rx-flip=0, feature-sg, ...). Returns how many were filled (at
 * most max).
 */
unsigned netif_backend_offer_keys(const struct netif_features *offer,
				  struct netif_key_value *kv, unsigned max);

/*
 * A frontend reads the backend's offer from the backend directory. Missing
 * feature keys read as 0; a value other than "0" or "1" (or a number out of
 * range) is -EINVAL with *err filled.
 */
int netif_read_backend_offer(netif_read_key_fn read, void *ctx,
			     struct netif_features *offer,
			     struct netif_key_error *err);

/*
 * What a frontend asks for: the offloads (sg, checksums, GSO) are its
 * own, what it supports, whatever the offer (each side's offer says what
 * it takes); the others on when the offer has them and the frontend
 * supports them; rx_copy and rx_notify always. max_queues: the queues to set
 * up, min(offered, supported), at least 1 (a supported 0 counts as 1).
 */
void netif_frontend_choose(const struct netif_features *offer,
			   const struct netif_features *supported,
			   struct netif_features *chosen);

/*
 * Whether a peer whose offer is f takes GSO packets of gso_type
 * (XEN_NETIF_GSO_TYPE_TCPV4 / _TCPV6): the feature-gso key, and what GSO
 * needs with it, as Linux's netdev_fix_features requires: scatter-gather
 * (a GSO packet spans pages) and checksum offload for its IP version (a
 * GSO packet's checksum is always blank).
 */
bool netif_gso_usable(const struct netif_features *f, uint8_t gso_type);

/*
 * The TUNSETOFFLOAD flags for the TAP whose frames go to a peer that
 * takes f: TUN_F_CSUM when it takes blank checksums of either IP version
 * (the other is filled in software), TUN_F_TSO4 / TUN_F_TSO6 where
 * netif_gso_usable says so. With these the kernel hands the reader only
 * what the peer can take.
 */
unsigned netif_tun_offload(const struct netif_features *f);

/*
 * The driver options that switch an offer off (--no-<name>): "sg",
 * "csum" (both IP versions), "ipv4-csum", "ipv6-csum", "gso" (both),
 * "gso-tcpv4", "gso-tcpv6". What depends on the feature goes with it
 * (GSO needs sg and the checksum offload of its IP version), so an offer
 * is never one a peer must second-guess. Returns 0, or -EINVAL for a name
 * that is not one of these.
 */
int netif_features_switch_off(struct netif_features *f, const char *name);
/* --help's lines for them (each "  --no-<name> ...\n"). */
extern const char netif_offload_options_help[];
/* "sg ipv4-csum ipv6-csum gso-tcpv4 gso-tcpv6" (or "none"): for logs. */
void netif_features_str(const struct netif_features *f, char *buf, size_t size);

/* One queue's rings and channels. */
struct netif_queue_conn {
	grant_ref_t tx_ring_ref;
	grant_ref_t rx_ring_ref;
	evtchn_port_t evtchn_tx; /* event-channel, or event-channel-tx */
	evtchn_port_t evtchn_rx; /* == evtchn_tx unless split */
};

/* The connection a frontend describes in its keys. */
struct netif_frontend_conn {
	unsigned nr_queues; /* 1 to NETIF_QUEUES_MAX */
	struct netif_queue_conn queues[NETIF_QUEUES_MAX];
	bool split_evtchn; /* every queue has event-channel-tx/-rx */
	/* multi-queue-num-queues is written (the backend offered
	 * multi-queue-max-queues: Linux netfront then writes it, even 1). */
	bool num_queues_key;
	struct netif_features features; /* what was negotiated */
};

/*
 * The keys a frontend writes for conn: request-rx-copy=1,
 * feature-rx-notify=1, feature-sg, feature-no-csum-offload,
 * feature-ipv6-csum-offload, feature-gso-tcpv4/v6, ...;
 * multi-queue-num-queues when num_queues_key; and each queue's
 * tx-ring-ref, rx-ring-ref, event-channel or event-channel-tx/-rx, in the
 * device directory itself for one queue (the flat layout), else in
 * queue-N/ for queue N. Returns the count.
 */
unsigned netif_frontend_conn_keys(const struct netif_frontend_conn *conn,
				  struct netif_key_value *kv, unsigned max);

/*
 * A backend reads the frontend's keys against what it offered. Refused
 * with -EINVAL and *err: multi-queue-num-queues 0, above the offered
 * multi-queue-max-queues (or above 1 when none was offered) or not a
 * number; a missing or malformed ring reference or event channel (0 is not
 * a port) in the flat layout (one queue) or in any queue-N/; split
 * channels half-written (event-channel-tx without -rx), not offered, or
 * used by some queues and not others; request-rx-copy not 1 (rx-flip is
 * not supported, as in Linux since 3.x), feature-rx-notify not 1, a flag
 * that is not 0 or 1, or a feature the backend did not offer (the
 * offloads excepted: the frontend's feature-sg, -gso-*, -ipv6-csum-offload
 * say what it takes, whatever the backend offered). On success
 * conn->features.max_queues is conn->nr_queues.
 */
int netif_read_frontend_conn(netif_read_key_fn read, void *ctx,
			     const struct netif_features *offer,
			     struct netif_frontend_conn *conn,
			     struct netif_key_error *err);

/*
 * The `mac` key of a device directory ("00:16:3e:01:02:03", as the
 * toolstack writes it) into mac. -EINVAL unless six two-digit hex bytes
 * separated by colons.
 */
int netif_parse_mac(const char *text, uint8_t mac[6]);

/* ---- TX: frontend to backend ---- */

/* What the backend does with a packet. */
enum netif_action {
	NETIF_ACCEPT,	  /* forward it; answer NETIF_RSP_OKAY */
	NETIF_ERROR,	  /* answer NETIF_RSP_ERROR, drop it; the vif stays */
	NETIF_DROP,	  /* answer NETIF_RSP_DROPPED, drop it; the vif stays */
	NETIF_DISABLE,	  /* broken or hostile frontend: stop serving the vif */
	NETIF_INCOMPLETE, /* the packet continues past the requests given */
};

enum netif_tx_reason {
	NETIF_TX_OK = 0,
	NETIF_TX_INCOMPLETE,	 /* more_data / extra past the given requests */
	NETIF_TX_TOO_MANY_SLOTS, /* > XEN_NETIF_NR_SLOTS_MIN data slots: error
				  */
	NETIF_TX_FATAL_SLOTS, /* > NETIF_TX_FATAL_SLOT_COUNT data slots: disable
			       */
	NETIF_TX_CROSSES_PAGE, /* offset + size > 4096 in a slot: disable */
	NETIF_TX_FRAG_EXCEEDS_TOTAL, /* a fragment larger than the size left:
					error */
	NETIF_TX_RUNT,		/* first slot below an Ethernet header: error */
	NETIF_TX_EXTRA_UNKNOWN, /* extra type 0 or not defined: disable */
	NETIF_TX_EXTRA_MALFORMED,    /* e.g. GSO size 0 or unknown GSO type:
					disable */
	NETIF_TX_GSO_NOT_NEGOTIATED, /* GSO of a type not negotiated: drop */
	NETIF_TX_REASON_COUNT
};

/* One data slot of a TX packet. */
struct netif_tx_frag {
	grant_ref_t gref;
	uint16_t offset;
	uint16_t size; /* bytes in this slot (for the first: its own share) */
};

/* A TX packet parsed from private copies of its requests. */
struct netif_tx_packet {
	uint32_t size;	    /* the whole packet, as the first slot says */
	uint16_t flags;	    /* first slot's NETTXF_csum_blank |
			       NETTXF_data_validated */
	unsigned nr_slots;  /* ring slots consumed: data + extra (also on
			       ERROR and DROP, so all can be answered) */
	unsigned nr_extras; /* extra-info slots; they follow the first slot */
	unsigned nr_frags;  /* data slots, frags[0] is the first */
	struct netif_tx_frag frags[XEN_NETIF_NR_SLOTS_MIN];
	bool has_gso;
	uint16_t gso_size; /* MSS */
	uint8_t gso_type;  /* XEN_NETIF_GSO_TYPE_TCPV4 / _TCPV6 */
	unsigned nr_mcast; /* MCAST_ADD / MCAST_DEL extras, in order */
	struct {
		uint8_t type;
		uint8_t addr[6];
	} mcast[2];
	bool has_hash;
	netif_extra_info_t hash;
	unsigned bad_slot; /* on a failure: index of the slot at fault */
};

/*
 * A TX packet's data straight from the frontend's granted pages, mapped
 * (pages[i]: where frag i's page is; unused for an empty frag). The
 * packet's bytes are its frags' in order (their sizes add up to size).
 */
/* Copies bytes [0, len) of pkt's data out of the pages into dst. */
void netif_tx_gather(const struct netif_tx_packet *pkt, uint8_t *const *pages,
		     uint32_t len, uint8_t *dst);
/*
 * The iovec that writes pkt whole with its first head_len bytes taken
 * from head (a private copy, the one its headers were validated in) and
 * the rest from the pages: what the frontend writes into its pages after
 * the validation can change only the payload of its own packet. Returns
 * the entries used, or 0 when more than max would be needed.
 */
unsigned netif_tx_mapped_iov(const struct netif_tx_packet *pkt,
			     uint8_t *const *pages, const uint8_t *head,
			     uint32_t head_len, struct iovec *iov,
			     unsigned max);

/*
 * Parse the packet that starts at reqs[0] (n private copies, in ring
 * order) under the negotiated features. Returns the reason (NETIF_TX_OK on
 * success); netif_tx_action() says what to do with it. On OK, ERROR and
 * DROP pkt->nr_slots slots were consumed; on DISABLE pkt->bad_slot names
 * the slot at fault. INCOMPLETE: call again with more requests (the most a
 * packet can take is NETIF_TX_MAX_PACKET_SLOTS; past that it is fatal).
 * A request carrying MCAST_ADD/_DEL extras is a multicast filter change
 * of its own (as in Linux netback): OK with nr_mcast > 0, size 0 and no
 * frags; its slots are answered, nothing is forwarded.
 */
enum netif_tx_reason netif_tx_parse(const netif_tx_request_t *reqs, unsigned n,
				    const struct netif_features *negotiated,
				    struct netif_tx_packet *pkt);

enum netif_action netif_tx_action(enum netif_tx_reason reason);
/* "too many slots", ... (for logs and statistics). */
const char *netif_tx_reason_str(enum netif_tx_reason reason);

/*
 * Responses for the pkt->nr_slots slots of a parsed packet, in ring order:
 * data slots get status with their request's id, extra slots
 * NETIF_RSP_NULL. Returns pkt->nr_slots.
 */
unsigned netif_tx_responses(const netif_tx_request_t *reqs,
			    const struct netif_tx_packet *pkt, int16_t status,
			    netif_tx_response_t *rsps);

/*
 * A frontend's requests for one packet of size bytes in nr_frags data
 * slots (frags[i].size each; their sum must be size), with ids[i] for data
 * slot i and flags (NETTXF_csum_blank / _data_validated) on the first.
 * Writes nr_frags requests (more_data on all but the last). Returns
 * nr_frags, or 0 when the sizes do not add up, nr_frags is 0 or above
 * XEN_NETIF_NR_SLOTS_MIN, size is above XEN_NETIF_MAX_TX_SIZE, a slot
 * crosses its page, or flags holds more than those two.
 */
unsigned netif_tx_build(uint32_t size, const struct netif_tx_frag *frags,
			unsigned nr_frags, const uint16_t *ids, uint16_t flags,
			netif_tx_request_t *reqs);

/*
 * netif_tx_build for a GSO packet: gso_type XEN_NETIF_GSO_TYPE_TCPV4 or
 * _TCPV6 with gso_size the MSS puts a GSO extra-info slot after the first
 * (NETTXF_extra_info on it, NETTXF_csum_blank set: a GSO packet's checksum
 * is blank), so nr_frags + 1 requests are written (ids[] still one per
 * data slot; the extra slot has none). XEN_NETIF_GSO_TYPE_NONE is
 * netif_tx_build. Returns the requests written, 0 as netif_tx_build does
 * or for an unknown GSO type or an MSS of 0.
 */
unsigned netif_tx_build_gso(uint32_t size, const struct netif_tx_frag *frags,
			    unsigned nr_frags, const uint16_t *ids,
			    uint16_t flags, uint8_t gso_type, uint16_t gso_size,
			    netif_tx_request_t *reqs);

/* ---- RX: backend to frontend ---- */

/*
 * Ring slots a packet of size bytes takes on the RX ring under the
 * negotiated features: one per page of data (from offset 0) plus one for a
 * GSO extra. 0 when it cannot be delivered: more than a page without
 * feature-sg, more than XEN_NETIF_NR_SLOTS_MIN pages, size 0, or gso
 * when no GSO type was negotiated.
 */
unsigned netif_rx_slots_needed(uint32_t size, bool gso,
			       const struct netif_features *negotiated);

/* What the backend says about a packet it delivers. */
struct netif_rx_meta {
	uint32_t size;
	bool csum_blank; /* checksum not filled in (needs negotiated csum) */
	bool data_validated; /* checksum known good */
	bool has_gso;
	uint16_t gso_size;
	uint8_t gso_type;
};

/*
 * Responses for one packet delivered into nr_slots posted requests (private
 * copies, in ring order; nr_slots from netif_rx_slots_needed): data slot i
 * holds min(4096, left) bytes at offset 0, id from its request, flags in
 * RX bit positions (NETRXF_*) on the first (csum_blank sets
 * data_validated too, as Linux netback does), extra_info there when a GSO
 * extra follows, more_data on all data slots but the last; a GSO extra
 * fills the second slot as netif_extra_info_t. Returns nr_slots.
 */
unsigned netif_rx_responses(const netif_rx_request_t *reqs, unsigned nr_slots,
			    const struct netif_rx_meta *meta,
			    netif_rx_response_t *rsps);

enum netif_rx_reason {
	NETIF_RX_OK = 0,
	NETIF_RX_INCOMPLETE,   /* more_data / extra past the given responses */
	NETIF_RX_STATUS_ERROR, /* the backend answered NETIF_RSP_ERROR/_DROPPED
				*/
	NETIF_RX_BAD_OFFSET,   /* offset + status past the page */
	NETIF_RX_TOO_MANY_SLOTS, /* more than XEN_NETIF_NR_SLOTS_MIN slots */
	NETIF_RX_EXTRA_UNKNOWN,	 /* extra type not defined, or not negotiated */
	NETIF_RX_EXTRA_MALFORMED,
	NETIF_RX_RUNT, /* shorter than an Ethernet header */
	NETIF_RX_REASON_COUNT
};

/* An RX packet parsed by a frontend from private copies of responses. */
struct netif_rx_packet {
	uint32_t size;
	uint16_t flags; /* first response's NETRXF_csum_blank | _data_validated
			 */
	unsigned
		nr_slots; /* responses consumed (also on failure, when known) */
	unsigned nr_frags;
	struct {
		unsigned slot; /* index in the responses given */
		uint16_t offset;
		uint16_t len;
	} frags[XEN_NETIF_NR_SLOTS_MIN];
	bool has_gso;
	uint16_t gso_size;
	uint8_t gso_type;
	unsigned bad_slot;
};

/*
 * Parse the packet that starts at rsps[0] (n private copies). The frontend
 * uses the slot position, never the id, to find its buffer (as Linux
 * netfront), so a lying id cannot point it at another buffer. On any
 * reason but OK and INCOMPLETE the packet is dropped and pkt->nr_slots
 * slots are consumed.
 */
enum netif_rx_reason netif_rx_parse(const netif_rx_response_t *rsps, unsigned n,
				    const struct netif_features *negotiated,
				    struct netif_rx_packet *pkt);
const char *netif_rx_reason_str(enum netif_rx_reason reason);

/* ---- the TAP's virtio-net header ---- */

/*
 * NETTXF_* flags and GSO for a frame read from a TAP opened with
 * IFF_VNET_HDR: VIRTIO_NET_HDR_F_NEEDS_CSUM gives csum_blank |
 * data_validated, VIRTIO_NET_HDR_F_DATA_VALID data_validated; a TCPv4 or
 * TCPv6 GSO header gives *gso_type XEN_NETIF_GSO_TYPE_TCPV4 / _TCPV6 and
 * *gso_size its MSS (and csum_blank: a GSO frame's checksum is blank),
 * otherwise *gso_type is XEN_NETIF_GSO_TYPE_NONE. Returns -EOPNOTSUPP for
 * GSO netif cannot carry (UDP, ECN: offloads no TAP of pvio's is given),
 * -EINVAL for a GSO header with an MSS of 0.
 */
int netif_vnet_to_tx(const struct virtio_net_hdr *vnet, uint16_t *flags,
		     uint8_t *gso_type, uint16_t *gso_size);

/*
 * The virtio-net header to write with a frame that arrived with a blank or
 * validated checksum: csum_blank gives VIRTIO_NET_HDR_F_NEEDS_CSUM with
 * csum_start/csum_offset found from the frame's IPv4 or IPv6 and TCP or
 * UDP headers (as Linux's skb_checksum_setup); data_validated gives
 * VIRTIO_NET_HDR_F_DATA_VALID. frame is the whole frame, contiguous, len
 * bytes (an IP length past len is a lie); it is read only for csum_blank.
 * Returns -EPROTONOSUPPORT when a csum_blank frame is not TCP or UDP over
 * IPv4 or IPv6 (or is an IP fragment), -EINVAL when its headers are cut
 * short or lie about their lengths: nothing can fill its checksum, so it
 * is dropped.
 */
int netif_vnet_for_frame(bool csum_blank, bool data_validated,
			 const uint8_t *frame, size_t len,
			 struct virtio_net_hdr *vnet);

/*
 * The virtio-net header for a GSO frame (gso_type XEN_NETIF_GSO_TYPE_TCPV4
 * or _TCPV6, MSS gso_size) that a TAP is to segment: GSO type and size,
 * VIRTIO_NET_HDR_F_NEEDS_CSUM with the TCP checksum's place, and hdr_len
 * the bytes up to the end of the TCP header. The frame is read as for
 * netif_vnet_for_frame. Returns -EINVAL when the GSO type or MSS is not
 * valid or the frame is not TCP over the IP version its type names (a
 * lying peer: the kernel would refuse or mis-segment it), or what finding
 * the checksum returned. An MSS below NETIF_GSO_MIN_MSS is -EINVAL too.
 */
int netif_vnet_for_gso_frame(uint8_t gso_type, uint16_t gso_size,
			     const uint8_t *frame, size_t len,
			     struct virtio_net_hdr *vnet);

/*
 * Either of the two above for a packet whose first head_len bytes are at
 * head (the headers: a frame in pieces gives its first piece) out of len
 * in all: GSO when gso_type is not XEN_NETIF_GSO_TYPE_NONE (as
 * netif_vnet_for_gso_frame), else as netif_vnet_for_frame. The headers
 * the header describes lie within head (-EINVAL otherwise), so a caller
 * that parsed a private copy of them writes that copy.
 */
int netif_vnet_for_packet(bool csum_blank, bool data_validated,
			  uint8_t gso_type, uint16_t gso_size,
			  const uint8_t *head, size_t head_len, size_t len,
			  struct virtio_net_hdr *vnet);

/*
 * Fill a blank checksum in software, for a peer that takes no checksum
 * offload (as skb_checksum_help): the checksum field holds the
 * pseudo-header sum, as in any CHECKSUM_PARTIAL packet; the ones'
 * complement of the sum from csum_start to the end of the frame replaces
 * it at csum_start + csum_offset. Returns -EINVAL when those lie outside
 * the frame.
 */
int netif_checksum_fill(uint8_t *frame, size_t len, uint16_t csum_start,
			uint16_t csum_offset);

/*
 * netif_checksum_fill for a frame held in pieces (the n buffers of iov,
 * in order, len bytes in all), as a frame spread over ring pages is.
 */
int netif_checksum_fill_iov(const struct iovec *iov, unsigned n, size_t len,
			    uint16_t csum_start, uint16_t csum_offset);

#endif
