/* pcapread.c: the bare libpcap read of a capture, the baseline of `make bench`.
 * Reads every packet and touches its first and last byte; prints the count. */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: pcapread FILE\n");
        return 2;
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "pcapread: %s\n", err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long long n = 0, sum = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        n++;
        if (h->caplen)
            sum += d[0] + d[h->caplen - 1];
    }
    printf("%llu packets (%llu)\n", n, sum);
    pcap_close(p);
    return 0;
}
