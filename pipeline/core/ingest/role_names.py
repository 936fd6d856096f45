"""Role names: which canonical role a raw key names (with units), including generic keys named by their ancestors."""
from __future__ import annotations

import functools
import re

UNITS = {"ms": 1.0, "millis": 1.0, "milliseconds": 1.0, "s": 1000.0, "sec": 1000.0, "secs": 1000.0, "seconds": 1000.0,
         "us": 1e-3, "micros": 1e-3, "microseconds": 1e-3, "ns": 1e-6, "nanos": 1e-6, "nanoseconds": 1e-6}
_U = "(_(" + "|".join(UNITS) + "))?"
# a log line's level or severity (GCP Cloud Logging `severity`, OTel logs `severity_text` / `severityText`): a status
# only when written as words; OTel's numeric `severity_number` is not named here
LOG_LEVEL_KEY = r"^(level|log_level|levelname|severity|severity_text)$"
OTEL_SEVERITY_KEY = r"^severity_number$"  # OTel's numeric severity: a status candidate only through its scale
# role -> [(regex over the snake_case key, strength)]; strength 1.0 is an unambiguous name
_RULES: dict[str, list[tuple[str, float]]] = {
    "ts": [(r"^(timestamp|ts|created_at|created|datetime|event_time|event_timestamp|logged_at|time_stamp"
            r"|request_timestamp)$", 1.0),
           (r"^(start_time|started_at|start_ts|start_timestamp|start|begin_time)$", 0.9), (r"^(time|date|when)$", 0.8),
           (r"_(at|timestamp|ts)$", 0.6), (r"^(end_time|ended_at|end|end_ts|finished_at|completed_at|stop_time)$", 0.5)],
    "latency_ms": [(r"^(latency|duration|elapsed|elapsed_time|response_time|took|time_taken|total_time|processing_time"
                    r"|runtime|exec_time|execution_time|wall_time|request_duration|request_time|upstream_response_time)" + _U + "$", 1.0),
                   (r"(^|_)(latency|duration|elapsed)(_|$)", 0.8)],
    "input": [(r"^(prompt|input|inputs|question|query|messages|user_input|user_message|prompt_text|input_text|user_query"
               r"|instruction|request_text|user_prompt)$", 1.0), (r"^contents$", 0.8), (r"(^|_)(prompt|input|question|query)(_|$)", 0.6)],
    "output": [(r"^(response|output|outputs|completion|answer|generation|generated_text|reply|response_text|output_text"
                r"|completion_text|choices|candidates|assistant_message|model_output|llm_output)$", 1.0),
               (r"(^|_)(response|output|completion|answer)(_|$)", 0.6), (r"^(text|content)$", 0.45)],
    "prompt_tokens": [(r"^(prompt_tokens|input_tokens|prompt_token_count|input_token_count|tokens_in|tokens_prompt|tokens_input"
                       r"|n_prompt_tokens|num_prompt_tokens|prompt_eval_count)$", 1.0), (r"(prompt|input|in)_?tokens?", 0.8)],
    "completion_tokens": [(r"^(completion_tokens|output_tokens|completion_token_count|output_token_count|tokens_out"
                           r"|tokens_completion|tokens_output|n_completion_tokens|generated_tokens|candidates_token_count"
                           r"|eval_count)$", 1.0), (r"(completion|output|out|generated|response)_?tokens?", 0.8)],
    "cost_usd": [(r"^(cost|cost_usd|total_cost|total_cost_usd|usd|price|cost_in_usd|spend|cost_dollars|cost_cents)$", 1.0),
                 (r"(^|_)(cost|price|spend)(_|$)", 0.8)],
    "model": [(r"^(model|model_name|model_id|engine|llm|deployment_name|llm_model|model_used)$", 1.0), (r"(^|_)model(_|$)", 0.7)],
    "provider": [(r"^(provider|vendor|llm_provider|api_provider|model_provider)$", 1.0), (r"^platform$", 0.5)],
    "session_id": [(r"^(session|session_id|conversation|conversation_id|thread|thread_id|chat_id|sid|dialog_id)$", 1.0),
                   (r"(^|_)(session|conversation|thread)(_|$)", 0.7)],
    "user_id": [(r"^(user|user_id|userid|customer|customer_id|account_id|uid|end_user|end_user_id|username|user_name)$", 1.0),
                (r"^(account|client_id|tenant_id)$", 0.6)],
    "request_id": [(r"^(request_id|req_id|call_id|event_id|log_id|completion_id|generation_id|invocation_id|message_id|run_id"
                    r"|span_id|uuid|requestid)$", 1.0), (r"^id$", 0.75)],
    "trace_id": [(r"^(trace_id|traceid|trace|x_trace_id|otel_trace_id)$", 1.0)],
    "service": [(r"^(service|service_name|app|app_name|application|application_name|ml_app|component)$", 1.0),
                (r"^project$", 0.6)],
    "version": [(r"^(version|prompt_version|app_version|git_sha|commit|build|revision)$", 1.0),
                (r"^(release|deployment)$", 0.9), (r"^(model_version|variant|experiment)$", 0.5)],
    "environment": [(r"^(env|environment|stage|deployment_env|tier)$", 1.0)],
    "operation": [(r"^(operation|operation_name|endpoint|route|span_name|function_name|prompt_name|agent|agent_name"
                   r"|call_type|task_name)$", 1.0),
                  (r"(^|_)(operation|endpoint|route|span_name|function_name|prompt_name|agent|call_type)(_|$)", 0.7)],
    "ttft_ms": [(r"^(ttft|time_to_first_token|first_token|first_token_latency|time_to_first_byte|ttfb"
                 r"|first_token_time)" + _U + "$", 1.0), (r"(^|_)(ttft|first_token)(_|$)", 0.8)],
    "status": [(r"^(status|status_code|http_status|http_status_code|success|ok|succeeded|response_status)$", 1.0),
               (r"^state$", 0.6), (LOG_LEVEL_KEY, 0.4), (OTEL_SEVERITY_KEY, 0.35)],
    "error": [(r"^(error|error_message|exception|err|error_msg|error_type|failure_reason|error_detail|errors|stack_trace"
               r"|traceback)$", 1.0), (r"(^|_)(error|exception)(_|$)", 0.7)],
    "tool_calls": [(r"^(tools|tool_calls|function_calls|tools_used|tool_names|functions|tool_use|tool_uses|tools_called)$", 1.0),
                   (r"^actions$", 0.5)],
    "branch_path": [(r"^(branch_path|branches|branch_decisions|workflow_path|route_path|routes)$", 1.0),
                    (r"^(route|path)$", 0.5)],
    "outcome": [(r"^(outcome|resolution|label|escalated|resolved|disposition|verdict)$", 1.0), (r"^result$", 0.9),
                (r"^(feedback|user_feedback|rating)$", 0.5)],
}
_RULES_C = {r: [(re.compile(p), s) for p, s in rules] for r, rules in _RULES.items()}
ROLE_NAMES = tuple(_RULES)  # roles inference can assign
# generic leaf keys take their role from the nearest ancestor that names one
_GENERIC = {"text": {"input", "output", "error"}, "content": {"input", "output", "error"}, "value": {"input", "output", "error"},
            "message": {"input", "output", "error"}, "body": {"input", "output", "error"}, "data": {"input", "output"},
            "id": {"request_id", "session_id", "user_id", "trace_id"},
            "uuid": {"request_id", "session_id", "user_id", "trace_id"},
            "name": {"model", "service", "provider", "environment", "version", "user_id", "tool_calls"}, "code": {"status"}}


def snake(k) -> str:
    k = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(k))
    return re.sub(r"[^a-z0-9]+", "_", k.lower()).strip("_")


# Common header words of spreadsheet exports in other languages (de, fr, es, it, pt, nl), by snake_case word.
_WORDS = {
    "zeitstempel": "timestamp", "horodatage": "timestamp", "marca_temporal": "timestamp", "tijdstempel": "timestamp",
    "datum": "date", "fecha": "date", "data_ora": "timestamp", "zeit": "time", "heure": "time", "hora": "time",
    "modell": "model", "modele": "model", "modelo": "model", "modello": "model",
    "antwort": "response", "reponse": "response", "respuesta": "response", "risposta": "response",
    "resposta": "response", "antwoord": "response", "frage": "question", "pregunta": "question",
    "eingabe": "input", "entree": "input", "entrada": "input", "ausgabe": "output", "sortie": "output",
    "salida": "output", "dauer": "duration", "duree": "duration", "duracion": "duration", "durata": "duration",
    "duracao": "duration", "latenz": "latency", "latence": "latency", "latencia": "latency", "latenza": "latency",
    "kosten": "cost", "cout": "cost", "coste": "cost", "costo": "cost", "custo": "cost",
    "sitzung": "session", "seance": "session", "sesion": "session", "sessione": "session", "sessao": "session",
    "benutzer": "user", "nutzer": "user", "utilisateur": "user", "usuario": "user", "utente": "user",
    "gebruiker": "user", "fehler": "error", "erreur": "error", "fehlermeldung": "error_message",
    "dienst": "service", "anbieter": "provider", "fournisseur": "provider", "proveedor": "provider",
    "umgebung": "environment", "statut": "status", "estado": "status", "stato": "status",
    "werkzeuge": "tools", "outils": "tools", "herramientas": "tools", "ergebnis": "result", "resultat": "result",
    "resultado": "result", "jetons": "tokens", "fichas": "tokens", "anfrage": "request", "requete": "request",
    "solicitud": "request", "kennung": "id", "identifiant": "id", "sitzungs_id": "session_id",
}


# linking words of foreign headers (Jetons d'entrée, Tokens de entrada): dropped so the content words meet
_LINKS = frozenset(("d", "de", "del", "della", "di", "da", "do", "du", "des", "von", "van", "der"))


def _translated(key) -> str:
    """snake_case key with accents folded and foreign header words put in English (Antwort-Tokens -> response_tokens)."""
    import unicodedata

    folded = "".join(c for c in unicodedata.normalize("NFKD", str(key)) if not unicodedata.combining(c))
    s = snake(folded)
    if s in _WORDS:
        return _WORDS[s]
    return "_".join(_WORDS.get(w, w) for w in s.split("_") if w not in _LINKS)


def key_rules(key) -> dict[str, float]:
    """Role -> strength for one key on its own."""
    s = _translated(key)
    out = {role: max((st for rx, st in rules if rx.search(s)), default=0.0) for role, rules in _RULES_C.items()}
    out = {r: v for r, v in out.items() if v}
    top = max(out.values(), default=0.0)
    return {r: (v if v == top else v * 0.5) for r, v in out.items()}  # a key's best reading dampens its others


@functools.lru_cache(maxsize=8192)
def name_scores(keys: tuple) -> dict[str, tuple[float, str]]:
    """Role -> (strength, why) from the leaf key, or for generic leaves (text, id, name...) from the nearest named ancestor."""
    names = [k for k in keys if isinstance(k, str) and k != "*"]
    if not names:
        return {}
    leaf, anc = names[-1], names[:-1]
    if any("token" in snake(a) for a in anc):  # tokens.prompt, token_usage.output
        own = key_rules(leaf)
        if own.get("input") or own.get("prompt_tokens"):
            return {"prompt_tokens": (0.95, f"'{leaf}' under '{'.'.join(anc)}' matches prompt_tokens")}
        if own.get("output") or own.get("completion_tokens"):
            return {"completion_tokens": (0.95, f"'{leaf}' under '{'.'.join(anc)}' matches completion_tokens")}
    compat = _GENERIC.get(snake(leaf))
    if compat is not None:
        for a in reversed(anc):
            ctx = {r: v for r, v in key_rules(a).items() if r in compat and v >= 0.6}
            if ctx:
                return {r: (0.9 * v, f"'{leaf}' under '{a}' matches {r}") for r, v in ctx.items()}
    scale = 1.0 if not anc or snake(leaf) != "id" else 0.7
    return {r: (v * scale, f"name '{leaf}' matches {r}") for r, v in key_rules(leaf).items()}


def is_log_level(key) -> bool:
    """Whether a key names a log line's level or severity (`level`, `severity`, `severityText`...)."""
    return re.match(LOG_LEVEL_KEY, _translated(key)) is not None


def level_scale(key, values: list) -> str | None:
    """The numeric level scale a level-named key's values are on, as the transform reading it (mapping.LEVEL_ERRORS):
    OTel `severity_number` 1-24, pino / bunyan 10-60 in tens, syslog 0-7; None when no scale fits every value."""
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not nums or len(nums) < len(values) or any(v != int(v) for v in nums):
        return None
    if re.match(OTEL_SEVERITY_KEY, _translated(key)):
        return "otel_severity" if all(1 <= v <= 24 for v in nums) else None
    if not is_log_level(key):
        return None
    if all(v in (10, 20, 30, 40, 50, 60) for v in nums):
        return "pino_level"
    return "syslog_severity" if all(0 <= v <= 7 for v in nums) else None


def unit_scale(key) -> tuple[float, str] | None:
    """Scale to milliseconds from a unit suffix (`_ms`, `_s`, `_ns`...) of a duration key, with the unit."""
    m = re.search("_(" + "|".join(UNITS) + ")$", snake(key))
    return (UNITS[m.group(1)], m.group(1)) if m else None
