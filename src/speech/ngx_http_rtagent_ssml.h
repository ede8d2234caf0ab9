
/*
 * SSML for Azure Speech text-to-speech (PROTOCOLS.md 4.2, 9): one reply
 * text spoken by one voice in one language, at an optional prosody rate
 * and in an optional speaking style.  Pure C, no nginx.
 */


#ifndef _NGX_HTTP_RTAGENT_SSML_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_SSML_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>


typedef struct {
    const unsigned char  *voice;       /* "en-US-JennyNeural", required */
    size_t                voice_len;
    const unsigned char  *lang;        /* "en-US", required */
    size_t                lang_len;
    const unsigned char  *rate;        /* prosody rate, or len 0 */
    size_t                rate_len;
    const unsigned char  *style;       /* mstts:express-as style, or len 0 */
    size_t                style_len;
} ngx_http_rtagent_ssml_voice_t;


/* the most bytes escaping len bytes can give (6 per input byte) */
#define ngx_http_rtagent_ssml_escaped_max(len)  ((len) * 6)

/*
 * Text as XML character data and attribute values: & < > " ' become
 * entities; what XML 1.0 cannot carry (control characters other than tab,
 * line feed and carriage return, U+FFFE, U+FFFF) becomes a space; bytes
 * that are not well-formed UTF-8 (overlong forms, surrogates, beyond
 * U+10FFFF, cut sequences) become U+FFFD, one per byte.  So any input
 * gives well-formed XML text, which the service would otherwise refuse
 * (400) for the whole reply.  dst holds escaped_max(len) bytes; returns
 * the bytes written.
 */
size_t ngx_http_rtagent_ssml_escape(unsigned char *dst,
    const unsigned char *src, size_t len);

/*
 * The checks of configured values, at configuration time: a voice name
 * ([A-Za-z0-9:_-], as "en-US-Ava:DragonHDLatestNeural"), a language tag
 * ([A-Za-z0-9-]), a prosody rate (x-slow, slow, medium, fast, x-fast,
 * default, a relative value such as "+10%" or "-20%", or a multiplier
 * such as "1.2"), a style ([A-Za-z-], as "customerservice").  NULL when
 * good, else what is wrong.
 */
const char *ngx_http_rtagent_ssml_check_voice(const unsigned char *p,
    size_t len);
const char *ngx_http_rtagent_ssml_check_lang(const unsigned char *p,
    size_t len);
const char *ngx_http_rtagent_ssml_check_rate(const unsigned char *p,
    size_t len);
const char *ngx_http_rtagent_ssml_check_style(const unsigned char *p,
    size_t len);

/* the most bytes ngx_http_rtagent_ssml_build() writes for text_len */
size_t ngx_http_rtagent_ssml_size(const ngx_http_rtagent_ssml_voice_t *v,
    size_t text_len);

/*
 * The whole document into dst (at least ssml_size() bytes):
 *
 *   <speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis'
 *    xmlns:mstts='https://www.w3.org/2001/mstts' xml:lang='LANG'>
 *   <voice name='VOICE'>[<mstts:express-as style='STYLE'>]
 *   [<prosody rate='RATE'>]TEXT[</prosody>][</mstts:express-as>]
 *   </voice></speak>
 *
 * on one line; the bytes written.
 */
size_t ngx_http_rtagent_ssml_build(unsigned char *dst,
    const ngx_http_rtagent_ssml_voice_t *v, const unsigned char *text,
    size_t text_len);


#endif /* _NGX_HTTP_RTAGENT_SSML_H_INCLUDED_ */
