/*
 * Feature negotiation through xenstore: the keys each side writes and the
 * strict reading of the keys the peer wrote. A key the peer wrote badly is
 * refused with its name and value, never guessed at.
 */
#include "config.h"

#include "netif.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_tun.h>

/* The largest multi-queue-max-queues taken seriously. */
#define NETIF_MAX_QUEUES_LIMIT 4096u

/* ---- writing ---- */

struct key_writer {
	struct netif_key_value *kv;
	unsigned max;
	unsigned count;
};

/* prefix/key = value (prefix "" for the device directory itself). */
static void put_key_in(struct key_writer *w, const char *prefix,
		       const char *key, unsigned long value)
{
	if (w->count >= w->max)
		return;
	struct netif_key_value *kv = &w->kv[w->count];
	snprintf(kv->key, sizeof(kv->key), "%s%s", prefix, key);
	snprintf(kv->value, sizeof(kv->value), "%lu", value);
	w->count++;
}

static void put_key(struct key_writer *w, const char *key, unsigned long value)
{
	put_key_in(w, "", key, value);
}

/* Where queue q of nr_queues keeps its keys: the device directory for one
 * queue (the flat layout), else queue-<q>/. */
static void queue_prefix(char *buf, size_t size, unsigned q, unsigned nr_queues)
{
	if (nr_queues <= 1)
		buf[0] = '\0';
	else
		snprintf(buf, size, "queue-%u/", q);
}

unsigned netif_backend_offer_keys(const struct netif_features *offer,
				  struct netif_key_value *kv, unsigned max)
{
	struct key_writer w = {kv, max, 0};

	put_key(&w, "feature-rx-copy", offer->rx_copy);
	put_key(&w, "feature-rx-flip", 0);
	put_key(&w, "feature-sg", offer->sg);
	put_key(&w, "feature-gso-tcpv4", offer->gso_tcpv4);
	put_key(&w, "feature-gso-tcpv6", offer->gso_tcpv6);
	put_key(&w, "feature-ipv6-csum-offload", offer->ipv6_csum);
	put_key(&w, "feature-split-event-channels", offer->split_evtchn);
	put_key(&w, "feature-multicast-control", offer->mcast_ctrl);
	put_key(&w, "feature-ctrl-ring", offer->ctrl_ring);
	/* A pvio extension: written only to offer it, so that a backend
	 * without it looks like Linux's to a frontend. */
	if (offer->persistent_grants)
		put_key(&w, "feature-pvio-persistent-grants", 1);
	/* Absent means on: written only to say off. */
	if (!offer->ipv4_csum)
		put_key(&w, "feature-no-csum-offload", 1);
	if (offer->max_queues > 0)
		put_key(&w, "multi-queue-max-queues", offer->max_queues);
	return w.count;
}

unsigned netif_frontend_conn_keys(const struct netif_frontend_conn *conn,
				  struct netif_key_value *kv, unsigned max)
{
	struct key_writer w = {kv, max, 0};
	const struct netif_features *f = &conn->features;
	unsigned nr_queues = conn->nr_queues ? conn->nr_queues : 1;

	if (conn->num_queues_key)
		put_key(&w, "multi-queue-num-queues", nr_queues);
	for (unsigned q = 0; q < nr_queues && q < NETIF_QUEUES_MAX; q++) {
		const struct netif_queue_conn *qc = &conn->queues[q];
		char prefix[24];
		queue_prefix(prefix, sizeof(prefix), q, nr_queues);
		put_key_in(&w, prefix, "tx-ring-ref", qc->tx_ring_ref);
		put_key_in(&w, prefix, "rx-ring-ref", qc->rx_ring_ref);
		if (conn->split_evtchn) {
			put_key_in(&w, prefix, "event-channel-tx",
				   qc->evtchn_tx);
			put_key_in(&w, prefix, "event-channel-rx",
				   qc->evtchn_rx);
		} else {
			put_key_in(&w, prefix, "event-channel", qc->evtchn_tx);
		}
	}
	put_key(&w, "request-rx-copy", 1);
	put_key(&w, "feature-rx-notify", 1);
	put_key(&w, "feature-sg", f->sg);
	put_key(&w, "feature-no-csum-offload", !f->ipv4_csum);
	put_key(&w, "feature-ipv6-csum-offload", f->ipv6_csum);
	put_key(&w, "feature-gso-tcpv4", f->gso_tcpv4);
	put_key(&w, "feature-gso-tcpv6", f->gso_tcpv6);
	if (f->mcast_ctrl)
		put_key(&w, "request-multicast-control", 1);
	if (f->persistent_grants)
		put_key(&w, "feature-pvio-persistent-grants", 1);
	return w.count;
}

/* ---- reading ---- */

struct key_reader {
	netif_read_key_fn read;
	void *ctx;
	struct netif_key_error *err;
};

/* Copies src into dst (size bytes), cut short when it does not fit. */
static void copy_truncated(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int refuse(struct key_reader *r, const char *key, const char *value,
		  const char *why, int error)
{
	if (r->err) {
		copy_truncated(r->err->key, sizeof(r->err->key), key);
		copy_truncated(r->err->value, sizeof(r->err->value), value);
		r->err->why = why;
	}
	return error;
}

/*
 * Reads key into value: 1 when present, 0 when absent, or the reader's
 * negative errno (with the error filled).
 */
static int get_key(struct key_reader *r, const char *key, char *value,
		   size_t size)
{
	value[0] = '\0';
	int rc = r->read(r->ctx, key, value, size);
	if (rc < 0)
		return refuse(r, key, "", "could not be read", rc);
	if (rc == 0)
		value[0] = '\0';
	else
		value[size - 1] = '\0';
	return rc > 0 ? 1 : 0;
}

/*
 * Strict decimal: digits only, no sign or space. -EINVAL when it is not a
 * number, -ERANGE when it does not fit 32 bits.
 */
static int parse_decimal(const char *text, uint32_t *out)
{
	uint64_t value = 0;

	if (text[0] == '\0')
		return -EINVAL;
	for (const char *p = text; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	for (const char *p = text; *p; p++) {
		value = value * 10 + (uint64_t)(*p - '0');
		if (value > UINT32_MAX)
			return -ERANGE;
	}
	*out = (uint32_t)value;
	return 0;
}

/* A 0/1 flag; absent reads as 0 and *present says which. */
static int get_flag(struct key_reader *r, const char *key, bool *flag,
		    bool *present)
{
	char value[64];
	int rc = get_key(r, key, value, sizeof(value));

	if (rc < 0)
		return rc;
	if (present)
		*present = rc == 1;
	*flag = false;
	if (rc == 0)
		return 0;
	if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
		return refuse(r, key, value, "not 0 or 1", -EINVAL);
	*flag = value[0] == '1';
	return 0;
}

/* A number in [min, max]; *present says whether it was there at all. */
static int get_number(struct key_reader *r, const char *key, uint32_t min,
		      uint32_t max, uint32_t *number, bool *present)
{
	char value[64];
	int rc = get_key(r, key, value, sizeof(value));

	if (rc < 0)
		return rc;
	*present = rc == 1;
	if (rc == 0)
		return 0;
	rc = parse_decimal(value, number);
	if (rc == -EINVAL)
		return refuse(r, key, value, "not a decimal number", -EINVAL);
	if (rc < 0 || *number < min || *number > max)
		return refuse(r, key, value, "out of range", -EINVAL);
	return 0;
}

static int get_required_number(struct key_reader *r, const char *key,
			       uint32_t min, uint32_t max, uint32_t *number)
{
	bool present;
	int rc = get_number(r, key, min, max, number, &present);

	if (rc < 0)
		return rc;
	if (!present)
		return refuse(r, key, "", "missing", -EINVAL);
	return 0;
}

int netif_read_backend_offer(netif_read_key_fn read, void *ctx,
			     struct netif_features *offer,
			     struct netif_key_error *err)
{
	struct key_reader r = {read, ctx, err};
	bool no_csum = false;
	uint32_t queues = 0;
	bool present;
	int rc;

	memset(offer, 0, sizeof(*offer));
	if ((rc = get_flag(&r, "feature-rx-copy", &offer->rx_copy, NULL)) ||
	    (rc = get_flag(&r, "feature-sg", &offer->sg, NULL)) ||
	    (rc = get_flag(&r, "feature-gso-tcpv4", &offer->gso_tcpv4, NULL)) ||
	    (rc = get_flag(&r, "feature-gso-tcpv6", &offer->gso_tcpv6, NULL)) ||
	    (rc = get_flag(&r, "feature-ipv6-csum-offload", &offer->ipv6_csum,
			   NULL)) ||
	    (rc = get_flag(&r, "feature-split-event-channels",
			   &offer->split_evtchn, NULL)) ||
	    (rc = get_flag(&r, "feature-multicast-control", &offer->mcast_ctrl,
			   NULL)) ||
	    (rc = get_flag(&r, "feature-ctrl-ring", &offer->ctrl_ring, NULL)) ||
	    (rc = get_flag(&r, "feature-pvio-persistent-grants",
			   &offer->persistent_grants, NULL)) ||
	    (rc = get_flag(&r, "feature-no-csum-offload", &no_csum, NULL)) ||
	    (rc = get_number(&r, "multi-queue-max-queues", 0,
			     NETIF_MAX_QUEUES_LIMIT, &queues, &present)))
		return rc;
	offer->ipv4_csum = !no_csum;
	/* Every backend notifies: the key is the frontend's to write. */
	offer->rx_notify = true;
	offer->max_queues = queues;
	return 0;
}

void netif_frontend_choose(const struct netif_features *offer,
			   const struct netif_features *supported,
			   struct netif_features *chosen)
{
	memset(chosen, 0, sizeof(*chosen));
	chosen->rx_copy = true;
	chosen->rx_notify = true;
	/*
	 * The offloads are offers, each side's for what it takes (netif.h,
	 * and Linux netfront writes its own whatever the backend offered):
	 * the frontend's say what it takes on the RX ring.
	 */
	chosen->sg = supported->sg;
	chosen->ipv4_csum = supported->ipv4_csum;
	chosen->ipv6_csum = supported->ipv6_csum;
	chosen->gso_tcpv4 = supported->gso_tcpv4;
	chosen->gso_tcpv6 = supported->gso_tcpv6;
	chosen->split_evtchn = offer->split_evtchn && supported->split_evtchn;
	chosen->mcast_ctrl = offer->mcast_ctrl && supported->mcast_ctrl;
	chosen->ctrl_ring = offer->ctrl_ring && supported->ctrl_ring;
	chosen->persistent_grants =
		offer->persistent_grants && supported->persistent_grants;
	unsigned offered = offer->max_queues ? offer->max_queues : 1;
	unsigned wanted = supported->max_queues ? supported->max_queues : 1;
	chosen->max_queues = offered < wanted ? offered : wanted;
	if (chosen->max_queues > NETIF_QUEUES_MAX)
		chosen->max_queues = NETIF_QUEUES_MAX;
}

/* A request the frontend may make only when the backend offered it. */
static int get_offered_flag(struct key_reader *r, const char *key, bool offered,
			    bool *flag)
{
	int rc = get_flag(r, key, flag, NULL);

	if (rc < 0)
		return rc;
	if (*flag && !offered)
		return refuse(r, key, "1", "not offered by the backend",
			      -EINVAL);
	return 0;
}

/* A flag the protocol requires to be 1. */
static int get_required_one(struct key_reader *r, const char *key, bool *flag)
{
	bool present;
	int rc = get_flag(r, key, flag, &present);

	if (rc < 0)
		return rc;
	if (!present)
		return refuse(r, key, "", "missing", -EINVAL);
	if (!*flag)
		return refuse(r, key, "0", "not 1", -EINVAL);
	return 0;
}

static int get_port(struct key_reader *r, const char *key, evtchn_port_t *port)
{
	uint32_t value;
	int rc = get_required_number(r, key, 0, UINT32_MAX, &value);

	if (rc < 0)
		return rc;
	if (value == 0) {
		return refuse(r, key, "0",
			      "not an event channel (0 is no port)", -EINVAL);
	}
	*port = value;
	return 0;
}

/* prefix + key, for the queue's keys. */
static const char *queue_key(char *buf, size_t size, const char *prefix,
			     const char *key)
{
	snprintf(buf, size, "%s%s", prefix, key);
	return buf;
}

/*
 * One queue's rings and channels, from prefix ("" or "queue-N/"). *split
 * says whether it used event-channel-tx/-rx.
 */
static int read_queue(struct key_reader *r, const char *prefix,
		      const struct netif_features *offer,
		      struct netif_queue_conn *qc, bool *split)
{
	char key[64];
	uint32_t value;
	bool present;
	int rc;

	if ((rc = get_required_number(
		     r, queue_key(key, sizeof(key), prefix, "tx-ring-ref"), 0,
		     UINT32_MAX, &value)))
		return rc;
	qc->tx_ring_ref = value;
	if ((rc = get_required_number(
		     r, queue_key(key, sizeof(key), prefix, "rx-ring-ref"), 0,
		     UINT32_MAX, &value)))
		return rc;
	qc->rx_ring_ref = value;

	/* Split channels when the frontend wrote event-channel-tx. */
	queue_key(key, sizeof(key), prefix, "event-channel-tx");
	if ((rc = get_number(r, key, 0, UINT32_MAX, &value, &present)))
		return rc;
	*split = present;
	if (present) {
		if (!offer->split_evtchn) {
			char text[16];
			snprintf(text, sizeof(text), "%u", (unsigned)value);
			return refuse(r, key, text,
				      "split event channels not offered",
				      -EINVAL);
		}
		if ((rc = get_port(r, key, &qc->evtchn_tx)) ||
		    (rc = get_port(r,
				   queue_key(key, sizeof(key), prefix,
					     "event-channel-rx"),
				   &qc->evtchn_rx)))
			return rc;
		return 0;
	}
	queue_key(key, sizeof(key), prefix, "event-channel-rx");
	if ((rc = get_number(r, key, 0, UINT32_MAX, &value, &present)))
		return rc;
	if (present) {
		char text[16];
		snprintf(text, sizeof(text), "%u", (unsigned)value);
		return refuse(r, key, text,
			      "without event-channel-tx (split channels "
			      "half-written)",
			      -EINVAL);
	}
	if ((rc = get_port(r,
			   queue_key(key, sizeof(key), prefix, "event-channel"),
			   &qc->evtchn_tx)))
		return rc;
	qc->evtchn_rx = qc->evtchn_tx;
	return 0;
}

/* multi-queue-num-queues against the offer: absent is one queue. */
static int read_num_queues(struct key_reader *r,
			   const struct netif_features *offer, unsigned *out)
{
	static const char key[] = "multi-queue-num-queues";
	uint32_t value;
	bool present;
	char text[16];
	int rc = get_number(r, key, 0, UINT32_MAX, &value, &present);

	if (rc)
		return rc;
	*out = 1;
	if (!present)
		return 0;
	snprintf(text, sizeof(text), "%u", (unsigned)value);
	if (value == 0)
		return refuse(r, key, text, "no queues (at least 1)", -EINVAL);
	if (value > 1 && offer->max_queues <= 1)
		return refuse(r, key, text, "multi-queue not offered", -EINVAL);
	unsigned max = offer->max_queues > 1 ? offer->max_queues : 1;
	if (max > NETIF_QUEUES_MAX)
		max = NETIF_QUEUES_MAX;
	if (value > max)
		return refuse(r, key, text,
			      "more queues than multi-queue-max-queues",
			      -EINVAL);
	*out = value;
	return 0;
}

int netif_read_frontend_conn(netif_read_key_fn read, void *ctx,
			     const struct netif_features *offer,
			     struct netif_frontend_conn *conn,
			     struct netif_key_error *err)
{
	struct key_reader r = {read, ctx, err};
	struct netif_features *f = &conn->features;
	bool no_csum;
	int rc;

	memset(conn, 0, sizeof(*conn));
	if ((rc = read_num_queues(&r, offer, &conn->nr_queues)))
		return rc;
	for (unsigned q = 0; q < conn->nr_queues; q++) {
		char prefix[24];
		bool split;
		queue_prefix(prefix, sizeof(prefix), q, conn->nr_queues);
		if ((rc = read_queue(&r, prefix, offer, &conn->queues[q],
				     &split)))
			return rc;
		if (q == 0) {
			conn->split_evtchn = split;
		} else if (split != conn->split_evtchn) {
			char key[64];
			/* One kind of channel per vif: a frontend mixing
			 * them is confused, whichever it meant. */
			return refuse(&r,
				      queue_key(key, sizeof(key), prefix,
						split ? "event-channel-tx"
						      : "event-channel"),
				      "",
				      split ? "split channels where queue-0 "
					      "has one"
					    : "one channel where queue-0 has "
					      "split ones",
				      -EINVAL);
		}
	}

	/* Only the copying receive path exists (rx-flip went with Linux 3.x).
	 */
	if ((rc = get_required_one(&r, "request-rx-copy", &f->rx_copy)) ||
	    (rc = get_required_one(&r, "feature-rx-notify", &f->rx_notify)))
		return rc;
	/*
	 * What the frontend takes on the RX ring: its own offer, whatever
	 * the backend's (Linux netfront writes all of these as 1).
	 */
	if ((rc = get_flag(&r, "feature-sg", &f->sg, NULL)) ||
	    (rc = get_flag(&r, "feature-gso-tcpv4", &f->gso_tcpv4, NULL)) ||
	    (rc = get_flag(&r, "feature-gso-tcpv6", &f->gso_tcpv6, NULL)) ||
	    (rc = get_flag(&r, "feature-ipv6-csum-offload", &f->ipv6_csum,
			   NULL)) ||
	    (rc = get_offered_flag(&r, "request-multicast-control",
				   offer->mcast_ctrl, &f->mcast_ctrl)) ||
	    (rc = get_offered_flag(&r, "feature-pvio-persistent-grants",
				   offer->persistent_grants,
				   &f->persistent_grants)) ||
	    (rc = get_flag(&r, "feature-no-csum-offload", &no_csum, NULL)))
		return rc;
	/* The frontend's ability to take blank checksums: on unless it says. */
	f->ipv4_csum = !no_csum;
	f->split_evtchn = conn->split_evtchn;
	f->max_queues = conn->nr_queues;
	return 0;
}

/* ---- what the features allow ---- */

bool netif_gso_usable(const struct netif_features *f, uint8_t gso_type)
{
	if (!f->sg)
		return false;
	if (gso_type == XEN_NETIF_GSO_TYPE_TCPV4)
		return f->gso_tcpv4 && f->ipv4_csum;
	if (gso_type == XEN_NETIF_GSO_TYPE_TCPV6)
		return f->gso_tcpv6 && f->ipv6_csum;
	return false;
}

unsigned netif_tun_offload(const struct netif_features *f)
{
	unsigned flags = 0;

	if (f->ipv4_csum || f->ipv6_csum)
		flags |= TUN_F_CSUM;
	if (netif_gso_usable(f, XEN_NETIF_GSO_TYPE_TCPV4))
		flags |= TUN_F_TSO4;
	if (netif_gso_usable(f, XEN_NETIF_GSO_TYPE_TCPV6))
		flags |= TUN_F_TSO6;
	return flags;
}

const char netif_offload_options_help[] =
	"  --no-sg           offer no scatter-gather (feature-sg=0): the "
	"peer sends\n"
	"                    one page a packet (and no GSO)\n"
	"  --no-csum         offer no checksum offload (IPv4 and IPv6; no "
	"GSO)\n"
	"  --no-ipv4-csum    feature-no-csum-offload=1 (and no GSO TCPv4)\n"
	"  --no-ipv6-csum    feature-ipv6-csum-offload=0 (and no GSO TCPv6)\n"
	"  --no-gso          offer no segmentation offload (TCPv4 and "
	"TCPv6)\n"
	"  --no-gso-tcpv4    feature-gso-tcpv4=0\n"
	"  --no-gso-tcpv6    feature-gso-tcpv6=0\n"
	"  --no-persistent-grants\n"
	"                    no feature-pvio-persistent-grants (a pvio "
	"extension):\n"
	"                    the backend copies every packet's data\n";

int netif_features_switch_off(struct netif_features *f, const char *name)
{
	bool v4 = false, v6 = false;

	if (!strcmp(name, "sg")) {
		f->sg = false;
		v4 = v6 = true;
	} else if (!strcmp(name, "csum")) {
		f->ipv4_csum = f->ipv6_csum = false;
		v4 = v6 = true;
	} else if (!strcmp(name, "ipv4-csum")) {
		f->ipv4_csum = false;
		v4 = true;
	} else if (!strcmp(name, "ipv6-csum")) {
		f->ipv6_csum = false;
		v6 = true;
	} else if (!strcmp(name, "gso")) {
		v4 = v6 = true;
	} else if (!strcmp(name, "gso-tcpv4")) {
		v4 = true;
	} else if (!strcmp(name, "gso-tcpv6")) {
		v6 = true;
	} else if (!strcmp(name, "persistent-grants")) {
		f->persistent_grants = false;
		return 0;
	} else {
		return -EINVAL;
	}
	if (v4)
		f->gso_tcpv4 = false;
	if (v6)
		f->gso_tcpv6 = false;
	return 0;
}

void netif_features_str(const struct netif_features *f, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", f->sg ? " sg" : "",
		 f->ipv4_csum ? " ipv4-csum" : "",
		 f->ipv6_csum ? " ipv6-csum" : "",
		 f->gso_tcpv4 ? " gso-tcpv4" : "",
		 f->gso_tcpv6 ? " gso-tcpv6" : "");
	if (!buf[0])
		snprintf(buf, size, " none");
	/* Without the leading space. */
	memmove(buf, buf + 1, strlen(buf));
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int netif_parse_mac(const char *text, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		const char *p = text + 3 * i;
		int hi = hex_digit(p[0]);
		int lo = hi < 0 ? -1 : hex_digit(p[1]);
		if (lo < 0 || p[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
