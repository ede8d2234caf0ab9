
/*
 * The orchestrator (rtagent_engine agents, issue 10 item 4): the responder
 * of the turn interface that runs the agents.  Every call starts at the
 * entry agent (rtagent_entry_agent); each turn runs the caller's text
 * through the local dialogue engine of the active agent and carries out
 * what it asks for: say, a tool of the tool store, a handoff (the target
 * becomes the active agent and its greeting announces it), a transfer to
 * a human or the end of the call (turn->after).
 *
 * The call's state lives in its Redis hash rtagent:call:{<id>}, written
 * after every turn, so that another worker can resume the call:
 *
 *   agent       the active agent
 *   auth        "verified" once verify_identity said so, else "unverified"
 *   slots       the dialogue's fields as one JSON object of strings
 *               (slots, tool results, the engine's own "_" bookkeeping)
 *   summary     the last handoff's summary
 *   agent_turn  the number of the last turn answered (marks a call that
 *               the orchestrator has state for)
 *
 * A turn on a call of which this worker holds nothing reads them back
 * first.  Memory: every turn appends {"agent", "role", "text"} entries
 * (the caller's and the agent's) to the list rtagent:call:{<id>}:context,
 * trimmed to the last memory.context_turns turns of the active agent (two
 * entries a turn), 1 h TTL renewed while the call lives (the store's).  A
 * new call whose caller's number is known (the hash's peer_phone, from
 * IncomingCall) and whose entry agent has memory.load_profile reads the
 * long-term profile rtagent:profile:{<number>} (a hash: name, policy,
 * language, ...) into the fields as caller_name, caller_language: never
 * into the auth slots, as a caller id can be spoofed.
 */


#ifndef _NGX_HTTP_RTAGENT_ORCHESTRATOR_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_ORCHESTRATOR_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <call/ngx_http_rtagent_turn.h>


extern const ngx_http_rtagent_responder_t  ngx_http_rtagent_orchestrator;


#endif /* _NGX_HTTP_RTAGENT_ORCHESTRATOR_H_INCLUDED_ */
