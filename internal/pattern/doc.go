// Package pattern is eda's event-pattern engine: it parses and validates
// EventBridge event patterns and compiles any number of them into one
// immutable Machine that matches JSON events in a single pass.
//
// # Semantics
//
// EventBridge's documentation, and where it is vague AWS's event-ruler with
// rulesForJSONEvent (array-consistent matching):
//
//   - A leaf is a list of alternatives; exact strings, numbers, true, false,
//     null; prefix, suffix (each also with equals-ignore-case),
//     equals-ignore-case, exactly (plain string equality, no IP address
//     normalisation), wildcard, anything-but (string, number, lists, and
//     with prefix/suffix/equals-ignore-case/wildcard), numeric (one or two
//     comparisons), exists, cidr (mask below 32 bits for IPv4, 128 for
//     IPv6). $or at any level expands into AND-combinations (at most 1,000),
//     each of at most 256 field conditions (event-ruler's rule size).
//     Duplicate keys in a pattern are applied in order like other fields:
//     {"a":{"b":..},"a":{"c":..}} requires both a.b and a.c; of two leaf
//     lists on one path the later wins.
//   - Several conditions on one path: event-ruler's JsonRuleCompiler writes
//     the fields in the order of the pattern text into every AND-combination
//     built so far, and a later write to a path REPLACES the earlier
//     condition there (it is not ANDed with it); $or gives each branch its
//     own copy of the combinations built so far. So in
//     {"a":["x"],"$or":[{"a":["y"]},{"b":["z"]}]} the first branch is
//     a=y alone and the second a=x AND b=z, while in
//     {"$or":[{"a":["y"]},{"b":["z"]}],"a":["x"]} the later a=x replaces a=y
//     and the combinations are a=x, and a=x AND b=z. {"a":{"b":..}} and a
//     later "a.b" name the same path, so the later one wins too. We follow
//     that order-dependent override (parse.go, compiler.object).
//   - The equals-ignore-case family (equals-ignore-case, prefix/suffix with
//     equals-ignore-case, anything-but with equals-ignore-case) follows
//     event-ruler's EqualsIgnoreCaseParser: each character of the operand
//     matches its lower- or its upper-case form, with full case mappings, so
//     "straße" matches "STRASSE" but "STRASSE" does not match "straße"; a
//     character outside the BMP is one character ("😀OK" matches "😀ok"),
//     where event-ruler garbles it (fold.go).
//   - Numbers follow event-ruler's ComparableNumber: a number is compared by
//     value only when "comparable" (its decimal value is that of the
//     shortest text of its float64, see number.go), else only by literal
//     text; never equal to a string. This holds for event numbers and for
//     pattern operands: a numeric or anything-but operand that is not
//     comparable (0.30000000000000001, 9007199254740993, 1E309, 2.5E-324) is
//     rejected, and such a number as an exact value matches its own literal
//     text only. Exact strings that are IP addresses (dotted IPv4, or IPv6 in
//     hex and colons only) compare as addresses.
//   - exists and all operators apply to leaves only: an object, or an empty
//     array, is not a leaf. A null where an object is expected makes every
//     field below it missing. anything-but matches any present value it does
//     not exclude, null included.
//   - Event arrays: a leaf matches when any element does. Array consistency
//     as in event-ruler: all conditions of one AND-combination whose paths go
//     through an array of objects must be satisfied inside the same element
//     (this includes conditions that come from an $or branch and from fields
//     beside the $or whose paths share the array, since event-ruler
//     flattens $or into dotted-path sub-rules). {"exists": false} follows
//     event-ruler's ACFinder, which takes the conditions of a combination in
//     the order of their sorted paths: an absent path must have no leaf in
//     the array elements chosen by the conditions whose paths sort before
//     it, and so no leaf in any element of an array that none of those
//     passes through. {"f":{"g":[{"exists":false}],"h":[{"exists":true}]}}
//     does not match {"f":[{"g":1},{"h":2}]} (f.g sorts before f.h), while
//     {"f":{"a":[{"exists":true}],"g":[{"exists":false}]}} matches
//     {"f":[{"a":1},{"g":2}]}.
//   - Keys are joined with '.', as EventBridge does: {"a":{"b":..}} and
//     {"a.b":..} name the same field, in patterns and in events. An event
//     member with an empty key is not read unless a pattern path has an
//     empty step that is not trailing (event-ruler splits rule paths with
//     Java's String.split, which drops trailing empty steps, and reads only
//     the event keys that are steps of some rule): {"a":{"":["x"]}} and
//     {"a.":["x"]} never match {"a":{"":"x"}}, though {"a.":["x"]} matches
//     {"a.":"x"}. In event-ruler this depends on every rule of the machine;
//     here it is decided per pattern (scan.go emptyKeyValue, pred.noEmpty),
//     so that a Machine reports what each pattern alone would.
//   - Duplicate keys in an event: the last occurrence wins, like
//     encoding/json (event-ruler's streaming parser keeps all of them; we
//     follow the issue and the documented pattern rule instead).
//
// # Design
//
// Parse turns a pattern into Conjs (AND-combinations of field conditions,
// Req). Build puts every condition of every pattern into a path trie whose
// nodes hold a fieldIndex: hash maps for exact values, per-length hash probes
// for prefixes and suffixes (plain, and case-folded by fold key with an
// exact check of candidates), lists for the rest.
// Identical conditions share one predicate, so the work per event leaf
// depends on the values present, not on the number of patterns.
//
// Matching (match.go, scan.go): a source reports leaves to a per-goroutine
// state, which records the predicates hit; each AND-combination has one
// anchor (its required predicate shared by the fewest combinations), and
// after the scan only the combinations of the anchors hit are checked, so
// conditions that many patterns share cost nothing per pattern. Complete
// combinations are confirmed (cheaply without arrays of objects, else by a
// polynomial walk over a recorded skeleton of the event). Two sources feed the same state calls: the JSON scanner (Match,
// MatchStrict) and, for SNS's attribute scope, a flat list of typed message
// attributes (MatchAttrs).
//
// The scanner is purpose-built (not gjson): it descends only into named
// keys, skips other values eight bytes at a time, and stops as soon as the
// rest of the event cannot change the result (canStop). On the city-lots
// benchmark that early stop is what puts single-field rule sets at about the
// cost of one gjson.GetBytes lookup (BenchmarkEngineCityLots against
// BenchmarkGJSONFloor in this package; BenchmarkCityLots* at the root).
// Strict mode (MatchStrict) validates the whole event instead.
package pattern
