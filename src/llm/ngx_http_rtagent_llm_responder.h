
/*
 * The LLM engine's responder (rtagent_engine llm): the agents of
 * rtagent_agents answered by a chat-completions model.  A call starts at
 * the entry agent; its prompt is the system message, its "model" the
 * route (rtagent_llm_route when it names none).  The conversation is the
 * list rtagent:call:{<id>}:context in Redis ({"agent","role","text"}
 * entries, role "caller" or "agent", as the orchestrator writes them),
 * read on the first turn a worker answers and appended after each turn,
 * trimmed to the token budget (rtagent_llm_context_budget: tokens
 * estimated as bytes / 4; the system prompt and the tools' JSON are
 * charged first) and to the agent's memory.context_turns.  The active
 * agent is the call hash's "agent" field.
 *
 * Text deltas go to the session as they arrive.  Tool calls run through
 * the tool store (the agent's tools as function tools; its handoffs as
 * handoff_to_<agent> tools with a summary, which switch the prompt and
 * tools for the rest of the call); results are cut to
 * rtagent_llm_tool_result_max bytes and the model is called again, at most
 * rtagent_llm_max_tool_rounds times a turn.  A tool still running after
 * rtagent_tool_filler_after gets the filler line said, once a turn.
 * finish_reason length or content_filter ends the turn with a spoken line
 * and an error (ERROR_OCCURRED).  After a barge-in the context keeps the
 * reply as far as it had been handed to the session.
 */


#ifndef _NGX_HTTP_RTAGENT_LLM_RESPONDER_H_INCLUDED_
#define _NGX_HTTP_RTAGENT_LLM_RESPONDER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <call/ngx_http_rtagent_turn.h>


extern const ngx_http_rtagent_responder_t  ngx_http_rtagent_llm_responder;


#endif /* _NGX_HTTP_RTAGENT_LLM_RESPONDER_H_INCLUDED_ */
