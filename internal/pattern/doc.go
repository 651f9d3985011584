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
//     {"a.b":..} name the same field, in patterns and in events. Names
//     follow event-ruler's Path: a leaf's path is its container's name
//     (every key from the top joined with '.'), '.', and its key, or its
//     key alone when that name is empty, so a top-level empty key is dropped
//     before a leaf only ({"":{"a":{"b":..}}} is ".a.b"; parse.go
//     joinPath). An event that spells one path both ways ({"a":[..],
//     "a.b":..}) has two routes to it; a condition holds by either
//     (match.go consistentRoutes). An event
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
// Req). A Machine holds every condition of every pattern in a path trie whose
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
// polynomial walk over a recorded skeleton of the event). Two sources feed
// the same state calls: the JSON scanner (Match, MatchStrict, MatchLayout)
// and, for SNS's attribute scope, a flat list of typed message attributes
// (MatchAttrs).
//
// The scanner is purpose-built (not gjson): it descends only into named
// keys, skips other values eight bytes at a time, and stops as soon as the
// rest of the event cannot change the result (canStop). On the city-lots
// benchmark that early stop is what puts single-field rule sets at about the
// cost of one gjson.GetBytes lookup (BenchmarkEngineCityLots against
// BenchmarkGJSONFloor in this package; BenchmarkCityLots* at the root).
// Strict mode (MatchStrict) validates the whole event instead. When the
// caller wrote the event's top-level object itself and knows where each
// member's value starts (the Bus's envelope), MatchLayout skips reading the
// top level: a Layout names the members, the Machine resolves it against
// its trie once and keeps the result, and only the values that patterns
// name are read (members.go).
//
// # Live changes
//
// A Machine never changes. Apply derives the next one from it, sharing
// everything the change does not touch, so that a change costs what the
// change is, not what the table is; Build is Apply on an empty Machine.
// Readers that hold the old Machine keep matching on it, unaffected, and
// need no lock (persist.go):
//
//   - The trie is path-copied: a changed node is copied with every ancestor
//     (each links to it by its dotted remainder), so a change copies the
//     nodes of the paths it names, each with its list of children. Nodes
//     are identified by id (stable while their path is in the trie), never
//     by address, and hold no parent link, so untouched nodes are shared.
//   - The value maps of a fieldIndex, the preds of each path by name and
//     the patterns by ID are persistent hash tries (pmap, 64 ways per level):
//     lookup is a hash and a few levels, a change copies one node per level.
//   - Preds, subrules and patterns are indexed by int32 in persistent
//     vectors (pvec, 32-way radix tries), reading one costs one step per
//     level; freed indexes are reused through persistent free lists, and
//     matching scratch space is shared by every Machine of one lineage (it
//     grows to the largest and is reset by epochs). A push does not copy:
//     the new element's slot is beyond every reader's length, so the push
//     claims it (a compare-and-swap on the node's count of used slots) and
//     writes in place; a version that finds the slot claimed by another
//     version grown from the same one copies the node's used slots instead.
//   - Nodes created by the running Apply carry its edit token and are
//     changed in place, so one Apply of many entries copies nothing twice.
//   - A pattern is kept as its compact text (Parsed.src), not as its
//     Parsed, which is several times larger: removing it parses the text
//     again (microseconds) to find what to take out of the index.
//   - The one structure that Machines share and change in place is the
//     filter in front of a path's exact strings once there are many
//     (keyFilter): bits are only ever set, atomically and before Apply
//     returns, so a reader sees every key of its Machine and at worst a bit
//     of another's, which costs a lookup that finds nothing.
//
// So the cost of a change is the size of the patterns added and removed
// times a logarithmic depth, plus, for what it touches: the children of the
// trie nodes on its paths (the root links every dotted path, so the number
// of distinct paths, not of patterns), the lists an operator is evaluated
// through on every leaf anyway (numeric, cidr, anything-but, wildcards
// starting and ending with '*', exists, true/false/null on one path), the
// list of preds that one value hits, and the anchored list of the pred a new
// subrule is anchored on (the least shared of its preds; long only when
// many patterns are identical). Removing a pattern removes its preds that
// no other pattern uses, and trie nodes left without conditions or
// children. Three filters keep what removed entries set (the number filter
// of exact numbers, the filter of exact strings, and the lengths of
// prefixes, suffixes and their case-folded and wildcard forms): they only
// decide which exact lookups to make, so a stale bit costs a lookup that
// finds nothing. The string filter is rebuilt from its map once as many
// keys were added as it has room for (twice the keys it was built with),
// which costs the size of the map once per that many changes.
//
// Anchors (match.go) are chosen when a subrule is added, with the counts of
// that moment: of its required preds, the one the fewest subrules require.
// They are not revised when later changes shift the counts: re-anchoring on
// every change would touch the subrules of every shared pred, which is what
// a change must not cost. A stale anchor only makes matching check a
// subrule more often than needed (when its anchor is hit); results are
// exact whatever the anchors. Build and an Apply of many entries count all
// of their entries before anchoring any, so a bulk load anchors as well as
// a rebuild; a long-lived Machine whose rules were added one by one in an
// unlucky order can be rebuilt with Build to refresh its anchors.
package pattern
