
/*
 * The demo policyholders (agents/data/policyholders.yaml, issue 10 item 8)
 * as a pure codec over libyaml, no nginx, so it is unit tested alone:
 *
 *   policyholders:
 *     - policy: "42718365"      8 digits, unique in the file
 *       zip: "98101"            5 digits (the second factor of auth)
 *       name: Alice Johnson     at most NAME_MAX bytes
 *       phone: "+12065550142"   E.164: +, then 8 to 15 digits, not 0 first
 *       vehicles: [2019 Toyota Camry]   a list of strings (may be empty)
 *
 * Every field is required and no other key is allowed; an error names the
 * file, the line and the field ("f.yaml:12: policyholders[1].zip: ...").
 */


#ifndef _NGX_HTTP_RTAGENT_AGENT_DATA_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_AGENT_DATA_H_INCLUDED_


#include <stddef.h>

#include "ngx_http_rtagent_agent_def.h"


#define NGX_HTTP_RTAGENT_POLICY_NAME_MAX  256


typedef struct {
    ngx_http_rtagent_agent_str_t    policy;
    ngx_http_rtagent_agent_str_t    zip;
    ngx_http_rtagent_agent_str_t    name;
    ngx_http_rtagent_agent_str_t    phone;
    ngx_http_rtagent_agent_strs_t   vehicles;
    unsigned                        line;
} ngx_http_rtagent_policyholder_t;


/*
 * Parses len bytes of p; on success 0, *out and *n set (strings copied
 * with alloc, NUL-terminated); else -1 and err (NUL-terminated, at most
 * errlen bytes) says why.
 */
int ngx_http_rtagent_agent_data_parse(const unsigned char *p, size_t len,
    const char *file, ngx_http_rtagent_agent_alloc_pt alloc, void *ctx,
    ngx_http_rtagent_policyholder_t **out, size_t *n, char *err,
    size_t errlen);


#endif /* _NGX_HTTP_RTAGENT_AGENT_DATA_H_INCLUDED_ */
