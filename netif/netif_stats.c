/* Names of the per-vif statistics, for `pvio network-stats` and logs. */
#include "config.h"

#include "netif_stats.h"

const char *netif_rx_drop_str(enum netif_rx_drop drop)
{
	switch (drop) {
	case NETIF_RX_DROP_NO_BUFFERS:
		return "no RX buffers";
	case NETIF_RX_DROP_TOO_BIG:
		return "too big for the features";
	case NETIF_RX_DROP_CSUM:
		return "blank checksum nothing can fill";
	case NETIF_RX_DROP_GRANT:
		return "grant copy failed";
	case NETIF_RX_DROP_COUNT:
		break;
	}
	return "unknown drop";
}
