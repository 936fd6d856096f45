"""Reference of the check-spec kinds the evaluator understands: the spec keys and what confidence means for each."""
from __future__ import annotations

# Row kinds: confidence = share of applicable rows where the row predicate holds; holds = confidence >= min_confidence
# (default 1.0). Bound kinds: confidence = 1.0 when the statistic is consistent with its bound (at z, default 3),
# otherwise a ratio below 1 saying how far it is off; support counts the rows the statistic is about.
KIND_DOCS: dict[str, str] = {
    "not_empty": "{field}: value is not blank (whitespace only) where present",
    "length_between": "{field, min, max}: character length (list length for lists) within [min, max]",
    "json_valid": "{field}: value parses as JSON",
    "json_type": "{field, type}: valid JSON whose top-level type is OBJECT/ARRAY/STRING/NUMBER/BOOLEAN/NULL",
    "json_keys": "{field, required?, allowed?}: JSON object has every required key and no key outside allowed",
    "in_set": "{field, values, min_confidence?}: value (every element, for lists) is one of values",
    "type_is": "{field, type}: string looks like integer/number/boolean/uuid/hex/timestamp/semver",
    "min_value": "{field, min}: number >= min",
    "regex_absent": "{field, pattern|regex}: no match; PII patterns (email, phone, ssn, credit_card, ipv4, iban) "
                    "count only validated matches; habits: markdown, code_block, url, refusal",
    "regex_present": "{field, pattern|regex}: a match",
    "prefix_in": "{field, values}: value opens (after blanks) with one of values",
    "length_ratio_min": "{field, other, min}: length(field) >= min * length(other)",
    "completeness": "{field, min}: bound: share of non-null rows >= min; confidence = upper share / min",
    "share_between": "{field, value|values|pattern|regex?, min?, max?}: bound: share of rows with the event "
                     "(presence when no event is named; `nonempty`: over non-empty lists only) within [min, max]; confidence is the smaller of the share and "
                     "complement ratios at the interval end nearest the bound",
    "max_quantile": "{field, measure?, q, max}: bound: q-quantile <= max; confidence = max / lower quantile bound",
    "correlation": "{x, y, x_measure?, y_measure?, sign, min_abs}: bound: Spearman rho in the sign's direction "
                   ">= min_abs; confidence = upper |rho| / min_abs",
    "two_sample": "{field, measure?, value?, test: mannwhitney|ks|chi2, alpha, min_effect}: early vs late half "
                  "(time order) do not differ significantly by at least min_effect (Cliff's delta, KS D or "
                  "Cramér's V); confidence = 1 - effect when they do",
    "unique": "{field}: the value occurs once among non-null rows",
    "consistent_within": "{field, group}: the row's group has a single distinct value of field",
    "group_size_between": "{field, min, max}: rows per group (e.g. turns per session) within [min, max]; per group",
    "group_stat_between": "{field, stat: mean_size|single_share|returning_share, other?, min, max}: bound on a "
                          "per-group statistic",
    "centroid_similarity": "{field, embedder, centroid, min_mean, sample, seed}: bound: mean cosine to the "
                           "centroid on a deterministic sample",
    "semantic_outlier_rate": "{field, embedder, centroid, min_similarity, max_rate, sample, seed}: bound: share "
                             "of sampled rows less similar than min_similarity",
    "near_duplicate_rate": "{field, embedder, threshold, max_rate, sample, seed}: bound: share of sampled rows "
                           "with another row at cosine >= threshold",
    "io_alignment": "{field, other, embedder, min_mean, sample, seed}: bound: mean cosine between each row's "
                    "field and other",
}
