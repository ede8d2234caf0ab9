
/*
 * A test helper for t/087: Opus packets as the browser's WebCodecs makes
 * and plays them, with libopus.
 *
 *   opus-packets encode RATE < pcm16le > packets   20 ms packets, mono
 *   opus-packets decode RATE < packets > pcm16le
 *
 * Packets are framed for the test alone: a 2-byte big-endian length, then
 * the packet (on the wire each is one WebSocket binary frame).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus/opus.h>


#define MAX_PACKET  4000


static int
encode(int rate)
{
    int            err, n;
    size_t         samples;
    OpusEncoder   *enc;
    opus_int16     pcm[48000 / 50];
    unsigned char  pkt[MAX_PACKET];

    enc = opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, &err);
    if (enc == NULL) {
        fprintf(stderr, "opus_encoder_create: %s\n", opus_strerror(err));
        return 1;
    }

    samples = (size_t) rate / 50;

    for ( ;; ) {
        memset(pcm, 0, sizeof(pcm));

        if (fread(pcm, sizeof(opus_int16), samples, stdin) == 0) {
            break;
        }

        n = opus_encode(enc, pcm, (int) samples, pkt, sizeof(pkt));
        if (n < 0) {
            fprintf(stderr, "opus_encode: %s\n", opus_strerror(n));
            return 1;
        }

        putchar(n >> 8);
        putchar(n & 0xff);
        fwrite(pkt, 1, (size_t) n, stdout);
    }

    opus_encoder_destroy(enc);

    return 0;
}


static int
decode(int rate)
{
    int            err, n, hi, lo;
    OpusDecoder   *dec;
    opus_int16     pcm[48000 * 120 / 1000];
    unsigned char  pkt[MAX_PACKET];

    dec = opus_decoder_create(rate, 1, &err);
    if (dec == NULL) {
        fprintf(stderr, "opus_decoder_create: %s\n", opus_strerror(err));
        return 1;
    }

    while ((hi = getchar()) != EOF && (lo = getchar()) != EOF) {
        n = (hi << 8) | lo;

        if (n > MAX_PACKET || fread(pkt, 1, (size_t) n, stdin) != (size_t) n)
        {
            fprintf(stderr, "a truncated packet\n");
            return 1;
        }

        n = opus_decode(dec, pkt, n, pcm, (int) (sizeof(pcm) / 2), 0);
        if (n < 0) {
            fprintf(stderr, "opus_decode: %s\n", opus_strerror(n));
            return 1;
        }

        fwrite(pcm, sizeof(opus_int16), (size_t) n, stdout);
    }

    opus_decoder_destroy(dec);

    return 0;
}


int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: opus-packets encode|decode RATE\n");
        return 2;
    }

    if (strcmp(argv[1], "encode") == 0) {
        return encode(atoi(argv[2]));
    }

    if (strcmp(argv[1], "decode") == 0) {
        return decode(atoi(argv[2]));
    }

    fprintf(stderr, "usage: opus-packets encode|decode RATE\n");
    return 2;
}
