package pattern

import (
	"math"
	"math/bits"
	"net/netip"
	"sort"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// vkind is the JSON type of an event leaf value.
type vkind uint8

const (
	vString vkind = iota
	vNumber
	vTrue
	vFalse
	vNull
)

// leafValue is one scalar value of an event (or, for the attribute scope of
// a later SNS source, of a message attribute), ready for matching. Derived
// forms (number value, fold keys, IP address) are computed on first use.
type leafValue struct {
	kind vkind
	str  []byte // string content (unescaped), or number text

	numDone   bool // cmp computed
	floatDone bool // f parsed
	f         float64
	fok       bool
	cmp       bool

	foldDone bool
	fold     []byte

	ipDone bool
	ip     netip.Addr
	isIP   bool
}

// number returns the value and whether the number is comparable (the full
// event-ruler check, which can cost a float formatting).
func (v *leafValue) number() (float64, bool) {
	if !v.numDone {
		v.numDone = true
		var f float64
		f, v.cmp = numberValue(v.str)
		if v.cmp {
			v.f, v.fok, v.floatDone = f, true, true
		}
	}
	return v.f, v.cmp
}

// float returns the float64 nearest to the number (-0 as 0), without the
// comparability check: a cheap first filter before number.
func (v *leafValue) float() (float64, bool) {
	if !v.floatDone {
		v.floatDone = true
		f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(v.str), len(v.str)), 64)
		v.fok = err == nil && !math.IsInf(f, 0)
		if f == 0 {
			f = 0
		}
		v.f = f
	}
	return v.f, v.fok
}

// foldKey returns the equals-ignore-case key, built in *buf.
func (v *leafValue) foldKey(buf *[]byte) []byte {
	if !v.foldDone {
		v.foldDone = true
		*buf = foldKey((*buf)[:0], v.str)
		v.fold = *buf
	}
	return v.fold
}

func (v *leafValue) addr() (netip.Addr, bool) {
	if !v.ipDone {
		v.ipDone = true
		s := v.str
		if len(s) >= 2 && len(s) <= 64 && (isHex(s[0]) || s[0] == ':') {
			v.ip, v.isIP = ipLiteral(s)
		}
	}
	return v.ip, v.isIP
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// affixIndex finds the prefixes (or suffixes) of a value among many: one map
// probe per distinct operand length, so the cost does not grow with the
// number of operands. lens may keep a length whose operands are all gone
// (a probe that finds nothing).
type affixIndex = entryAffix[int32]

// insertLen returns lens (sorted) with n, as a new slice when n is new, so
// that a Machine sharing lens never sees it change.
func insertLen(lens []int, n int) []int {
	i := sort.SearchInts(lens, n)
	if i < len(lens) && lens[i] == n {
		return lens
	}
	out := make([]int, 0, len(lens)+1)
	out = append(out, lens[:i]...)
	out = append(out, n)
	return append(out, lens[i:]...)
}

// appendUnique returns list with p, as a new slice when p is new: lists of
// pred ids are shared between Machines and never changed in place.
func appendUnique(list []int32, p int32) []int32 {
	for _, x := range list {
		if x == p {
			return list
		}
	}
	return append(list[:len(list):len(list)], p)
}

// without returns the elements of list for which drop is false, as a new
// slice when one is dropped (nil when none is left).
func without[T any](list []T, drop func(T) bool) []T {
	var out []T
	for i, x := range list {
		if drop(x) {
			if out == nil {
				out = append(make([]T, 0, len(list)-1), list[:i]...)
			}
			continue
		}
		if out != nil {
			out = append(out, x)
		}
	}
	if out == nil {
		return list
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func lenBit(n int) uint64 {
	if n >= 63 {
		return 1 << 63
	}
	return 1 << uint(n)
}

// fieldIndex holds every value condition of every pattern on one event path.
// Conditions are shared: a value is looked up once per leaf, whatever the
// number of patterns. Each entry lists the predicates that hold when it hits.
//
// A fieldIndex is immutable once its Machine is returned; Apply changes a
// copy (fieldIndex.own). The maps are persistent (pmap), so a copy costs the
// lists only: the slices below, which list every entry of an operator that
// is evaluated one by one on each leaf anyway.
type fieldIndex struct {
	strs     pmap[string, []int32] // exact strings
	strsMay  *keyFilter            // first filter for strs when it is large, or nil
	nums     pmap[uint64, []int32] // exact comparable numbers, by float64 bits
	numSig   *numSigFilter         // cheap first filter for nums
	numTexts pmap[string, []int32] // exact numbers that are not comparable, by text
	textLens uint64                // bit n set: some numTexts key has length n (n < 63), bit 63: longer
	lits     [3][]int32            // true, false, null
	ips      pmap[netip.Addr, []int32]
	prefix   affixIndex
	suffix   affixIndex
	prefixLo entryAffix[foldEntry] // prefix + equals-ignore-case, by fold key
	suffixLo entryAffix[foldEntry]
	folds    pmap[string, []foldEntry] // equals-ignore-case, by fold key
	wcs      []wcEntry                 // wildcards starting and ending with '*'
	wcPre    entryAffix[wcEntry]       // wildcards with a literal first segment, by it
	wcSuf    entryAffix[wcEntry]       // wildcards starting with '*' but with a literal last segment
	ranges   []rangeEntry
	cidrs    []cidrEntry
	abs      []abEntry
	any      []int32 // exists:true and presence: hit by every leaf

	preds [2]pmap[string, int32] // the preds on this path by name: [predKey.noEmpty] by predKey.key
	ed    *edit                  // the Apply that owns this copy
	fresh uint16
}

// Bits of fieldIndex.fresh: the slice (or filter) was copied by the owning
// Apply and may be changed in place.
const (
	freshLit0 = 1 << iota
	freshLit1
	freshLit2
	freshWcs
	freshRanges
	freshCidrs
	freshAbs
	freshAny
	freshSig
)

// own returns fi itself when ed owns it, else a copy that ed owns (nil
// gives a new empty index).
func (fi *fieldIndex) own(ed *edit) *fieldIndex {
	if fi == nil {
		return &fieldIndex{ed: ed}
	}
	if fi.ed == ed {
		return fi
	}
	c := *fi
	c.ed, c.fresh = ed, 0
	return &c
}

func (fi *fieldIndex) predsOf(k predKey) *pmap[string, int32] {
	if k.noEmpty {
		return &fi.preds[1]
	}
	return &fi.preds[0]
}

// pred returns the id of the pred named k.
func (fi *fieldIndex) pred(k predKey) (int32, bool) {
	return fi.predsOf(k).get(hashString(k.key), k.key)
}

// setPred names pred id k; fi must be owned by ed.
func (fi *fieldIndex) setPred(ed *edit, k predKey, id int32) {
	fi.predsOf(k).set(ed, k.key, id, hashString)
}

// delPred drops the name k; fi must be owned by ed.
func (fi *fieldIndex) delPred(ed *edit, k predKey) { fi.predsOf(k).del(ed, k.key, hashString) }

// npreds returns the number of preds on the path.
func (fi *fieldIndex) npreds() int { return fi.preds[0].len() + fi.preds[1].len() }

// owned returns s, copied first unless the bit says fi's Apply already did.
func owned[T any](fi *fieldIndex, bit uint16, s []T) []T {
	if fi.fresh&bit != 0 {
		return s
	}
	fi.fresh |= bit
	return append(make([]T, 0, len(s)+1), s...)
}

type wcEntry struct {
	w    *wildcard
	pred int32
}

// entryAffix indexes entries that need a full check (wildcards, case-folded
// operands) by a key taken from the start (or end) of a value, so that a
// value probes one hash map per distinct key length and runs the full check
// only on candidates.
type entryAffix[E any] struct {
	lens []int
	m    pmap[string, []E]
}

func (a *entryAffix[E]) add(ed *edit, key string, e E) {
	list, ok := a.m.get(hashString(key), key)
	if !ok {
		a.lens = insertLen(a.lens, len(key))
	}
	a.m.set(ed, key, append(list[:len(list):len(list)], e), hashString)
}

// remove drops the entries under key for which drop is true.
func (a *entryAffix[E]) remove(ed *edit, key string, drop func(E) bool) {
	removeFrom(ed, &a.m, key, hashString, drop)
}

// removeFrom drops the elements of the list of k in m for which drop is
// true, and k itself when none is left.
func removeFrom[K comparable, E any](ed *edit, m *pmap[K, []E], k K, hf func(K) uint64, drop func(E) bool) {
	list, ok := m.get(hf(k), k)
	if !ok {
		return
	}
	if list = without(list, drop); len(list) == 0 {
		m.del(ed, k, hf)
	} else {
		m.set(ed, k, list, hf)
	}
}

// at returns the entries whose key is the first (or, with suffix, the last)
// n bytes of s.
func (a *entryAffix[E]) at(s []byte, n int, suffix bool) []E {
	var k []byte
	if suffix {
		k = s[len(s)-n:]
	} else {
		k = s[:n]
	}
	list, _ := lookupBytes(&a.m, k)
	return list
}

func evalWildcards(a *entryAffix[wcEntry], s []byte, suffix bool, st *state) {
	for _, n := range a.lens {
		if n > len(s) {
			break
		}
		for _, e := range a.at(s, n, suffix) {
			if e.w.match(s) {
				st.hit(e.pred)
			}
		}
	}
}

func evalAffix(a *affixIndex, s []byte, suffix bool, st *state) {
	for _, n := range a.lens {
		if n > len(s) {
			break
		}
		for _, p := range a.at(s, n, suffix) {
			st.hit(p)
		}
	}
}

// foldEntry is an operand of the equals-ignore-case family, checked exactly
// (foldMatch) once its fold key is found.
type foldEntry struct {
	p    string
	pred int32
}

// evalFoldAffix hits the prefix (or suffix) equals-ignore-case operands of a
// that value s, with fold key key, starts (ends) with.
func evalFoldAffix(a *entryAffix[foldEntry], s, key []byte, suffix bool, st *state) {
	for _, n := range a.lens {
		if n > len(key) {
			break
		}
		for _, e := range a.at(key, n, suffix) {
			if suffix && foldMatchSuffix(e.p, s) || !suffix && foldMatch(e.p, s, true) {
				st.hit(e.pred)
			}
		}
	}
}

type rangeEntry struct {
	r    numRange
	pred int32
}

type cidrEntry struct {
	p    netip.Prefix
	pred int32
}

type abEntry struct {
	ab   *anythingBut
	pred int32
}

// listUpdate adds pred to (or with add false removes it from) the list of
// key k in m.
func listUpdate[K comparable](ed *edit, m *pmap[K, []int32], k K, hf func(K) uint64, pred int32, add bool) {
	if !add {
		removeFrom(ed, m, k, hf, func(x int32) bool { return x == pred })
		return
	}
	list, _ := m.get(hf(k), k)
	m.set(ed, k, appendUnique(list, pred), hf)
}

// exact adds (or with add false removes) an exact string or number
// alternative of pred in the maps of exact values.
func (fi *fieldIndex) exact(ed *edit, a *alt, pred int32, add bool) {
	if a.kind == aString {
		listUpdate(ed, &fi.strs, a.s, hashString, pred, add)
		if add {
			fi.filterStr(a.s)
		}
		if a.hasIP {
			listUpdate(ed, &fi.ips, a.ip, hashAny[netip.Addr], pred, add)
		}
		return
	}
	if a.cmp {
		listUpdate(ed, &fi.nums, math.Float64bits(a.f), hashUint64, pred, add)
	}
	listUpdate(ed, &fi.numTexts, a.s, hashString, pred, add)
}

// filterStr notes exact string s, just added to fi.strs, in the filter of
// strs: it sets its bits, or builds a new filter from strs when the current
// one is full (or missing) and strs holds filterMin keys or more, or drops
// the filter when strs holds fewer.
func (fi *fieldIndex) filterStr(s string) {
	switch f := fi.strsMay; {
	case f != nil && f.added.Load() < f.room:
		f.add(hashString(s))
	case fi.strs.len() >= filterMin:
		fi.strsMay = newKeyFilter(&fi.strs)
	default:
		fi.strsMay = nil
	}
}

// filterMin is the number of exact strings on one path from which they get
// a keyFilter: below it the map is small enough to stay in the cache.
const filterMin = 1024

// keyFilter is a first filter for the keys of a large map: a blocked Bloom
// filter that sets two bits of one 64-bit word per key, chosen by the key's
// hash. A value whose two bits are not both set is no key, and matching
// skips the map lookup, which on a large map reads several nodes from
// memory for each event (BenchmarkCityLotsScaling); a few percent of other
// values pass it (TestKeyFilter).
//
// Unlike the rest of a Machine, a filter is shared by the Machines derived
// from the one that built it, and changed in place: adding a key sets its
// bits (atomically, before Apply returns the Machine that holds the key, so
// readers of that Machine see them), and removing a key clears nothing. A
// Machine that finds the bits of a value it does not hold (another
// Machine's key, or a removed one) only makes a lookup that finds nothing.
// Once as many keys were added as the filter has room for (twice the keys
// of the map when it was built), the next add builds a new one from the
// map, so the cost per change is constant when amortised, and the
// filter's bits per key stay 8 or more.
type keyFilter struct {
	words []uint64     // a power of two; read and set atomically once published
	room  int64        // keys it has bits for
	added atomic.Int64 // keys added
}

// newKeyFilter returns a filter of the keys of m, with room for as many
// more. It writes its bits plainly: no reader has it yet.
func newKeyFilter[V any](m *pmap[string, V]) *keyFilter {
	room := int64(max(2*m.len(), filterMin))
	f := &keyFilter{words: make([]uint64, 1<<bits.Len64(uint64(room/8-1))), room: room}
	m.each(func(k string, _ V) {
		w, b := f.filterBits(hashString(k))
		*w |= b
	})
	f.added.Store(int64(m.len()))
	return f
}

// filterBits returns the word and the two bits of hash h.
func (f *keyFilter) filterBits(h uint64) (*uint64, uint64) {
	return &f.words[h&uint64(len(f.words)-1)], 1<<(h>>52&63) | 1<<(h>>58)
}

// add sets the bits of a key with hash h.
func (f *keyFilter) add(h uint64) {
	w, b := f.filterBits(h)
	atomic.OrUint64(w, b)
	f.added.Add(1)
}

// may reports whether a key with hash h may be in the map.
func (f *keyFilter) may(h uint64) bool {
	w, b := f.filterBits(h)
	return atomic.LoadUint64(w)&b == b
}

// add indexes one alternative for pred; fi must be owned by ed.
func (fi *fieldIndex) add(ed *edit, a *alt, pred int32) {
	switch a.kind {
	case aString:
		fi.exact(ed, a, pred, true)
	case aNumber:
		fi.exact(ed, a, pred, true)
		if a.cmp {
			if fi.fresh&freshSig == 0 {
				sig := &numSigFilter{}
				if fi.numSig != nil {
					*sig = *fi.numSig
				}
				fi.numSig = sig
				fi.fresh |= freshSig
			}
			fi.numSig.add(strconv.AppendFloat(nil, a.f, 'e', -1, 64))
		}
		fi.textLens |= lenBit(len(a.s))
	case aTrue, aFalse, aNull:
		i := a.kind - aTrue
		fi.lits[i] = appendUnique(owned(fi, freshLit0<<i, fi.lits[i]), pred)
	case aPrefix:
		fi.prefix.add(ed, a.s, pred)
	case aSuffix:
		fi.suffix.add(ed, a.s, pred)
	case aPrefixFold:
		fi.prefixLo.add(ed, string(foldKey(nil, []byte(a.s))), foldEntry{p: a.s, pred: pred})
	case aSuffixFold:
		fi.suffixLo.add(ed, string(foldKey(nil, []byte(a.s))), foldEntry{p: a.s, pred: pred})
	case aEqualsFold:
		k := string(foldKey(nil, []byte(a.s)))
		list, _ := fi.folds.get(hashString(k), k)
		fi.folds.set(ed, k, append(list[:len(list):len(list)], foldEntry{p: a.s, pred: pred}), hashString)
	case aWildcard:
		e := wcEntry{w: a.wc, pred: pred}
		first, last := a.wc.segs[0], a.wc.segs[len(a.wc.segs)-1]
		switch {
		case len(first) > 0:
			fi.wcPre.add(ed, string(first), e)
		case len(last) > 0:
			fi.wcSuf.add(ed, string(last), e)
		default:
			fi.wcs = append(owned(fi, freshWcs, fi.wcs), e)
		}
	case aNumeric:
		fi.ranges = append(owned(fi, freshRanges, fi.ranges), rangeEntry{r: a.rng, pred: pred})
	case aCIDR:
		fi.cidrs = append(owned(fi, freshCidrs, fi.cidrs), cidrEntry{p: a.cidr, pred: pred})
	case aAnythingBut:
		fi.abs = append(owned(fi, freshAbs, fi.abs), abEntry{ab: a.ab, pred: pred})
	case aExists:
		fi.addAny(pred)
	}
}

func (fi *fieldIndex) addAny(pred int32) {
	fi.any = appendUnique(owned(fi, freshAny, fi.any), pred)
}

// remove drops alternative a of pred, undoing add; fi must be owned by ed.
// The number filters (numSig, textLens) and affix lengths keep what they
// had: they only pass values on to the exact lookups.
func (fi *fieldIndex) remove(ed *edit, a *alt, pred int32) {
	is := func(x int32) bool { return x == pred }
	switch a.kind {
	case aString, aNumber:
		fi.exact(ed, a, pred, false)
	case aTrue, aFalse, aNull:
		i := a.kind - aTrue
		fi.lits[i] = without(fi.lits[i], is)
	case aPrefix:
		fi.prefix.remove(ed, a.s, is)
	case aSuffix:
		fi.suffix.remove(ed, a.s, is)
	case aPrefixFold:
		fi.prefixLo.remove(ed, string(foldKey(nil, []byte(a.s))), func(e foldEntry) bool { return e.pred == pred })
	case aSuffixFold:
		fi.suffixLo.remove(ed, string(foldKey(nil, []byte(a.s))), func(e foldEntry) bool { return e.pred == pred })
	case aEqualsFold:
		removeFrom(ed, &fi.folds, string(foldKey(nil, []byte(a.s))), hashString, func(e foldEntry) bool { return e.pred == pred })
	case aWildcard:
		drop := func(e wcEntry) bool { return e.pred == pred }
		first, last := a.wc.segs[0], a.wc.segs[len(a.wc.segs)-1]
		switch {
		case len(first) > 0:
			fi.wcPre.remove(ed, string(first), drop)
		case len(last) > 0:
			fi.wcSuf.remove(ed, string(last), drop)
		default:
			fi.wcs = without(fi.wcs, drop)
		}
	case aNumeric:
		fi.ranges = without(fi.ranges, func(e rangeEntry) bool { return e.pred == pred })
	case aCIDR:
		fi.cidrs = without(fi.cidrs, func(e cidrEntry) bool { return e.pred == pred })
	case aAnythingBut:
		fi.abs = without(fi.abs, func(e abEntry) bool { return e.pred == pred })
	case aExists:
		fi.any = without(fi.any, is)
	}
}

// eval calls st.hit for every predicate that leaf value v satisfies.
//
// It is kept whole on purpose, although long: it runs once per leaf value
// that a pattern reads, and moving the string and number cases into methods
// of their own (a call more per leaf) cost 4 to 11% of CPU time on some
// city-lots rule sets (Geometry, whose events are mostly numbers, and the
// anything-but sets), and still 7% on Geometry with only the string case
// moved: over the 3% a split may cost on a hot path.
func (fi *fieldIndex) eval(v *leafValue, st *state) {
	for _, p := range fi.any {
		st.hit(p)
	}
	switch v.kind {
	case vString:
		s := v.str
		if fi.strs.n > 0 {
			var ps []int32
			if fi.strsMay == nil {
				ps, _ = lookupBytes(&fi.strs, s)
			} else if h := hashString(bytesKey(s)); fi.strsMay.may(h) {
				ps, _ = fi.strs.get(h, bytesKey(s))
			}
			for _, p := range ps {
				st.hit(p)
			}
		}
		if fi.ips.n > 0 || fi.cidrs != nil {
			if a, ok := v.addr(); ok {
				if fi.ips.n > 0 {
					ps, _ := fi.ips.lookup(a, hashAny[netip.Addr])
					for _, p := range ps {
						st.hit(p)
					}
				}
				for i := range fi.cidrs {
					if fi.cidrs[i].p.Contains(a) {
						st.hit(fi.cidrs[i].pred)
					}
				}
			}
		}
		if fi.prefix.m.n > 0 {
			evalAffix(&fi.prefix, s, false, st)
		}
		if fi.suffix.m.n > 0 {
			evalAffix(&fi.suffix, s, true, st)
		}
		if fi.prefixLo.m.n > 0 || fi.suffixLo.m.n > 0 || fi.folds.n > 0 {
			key := v.foldKey(&st.foldBuf)
			evalFoldAffix(&fi.prefixLo, s, key, false, st)
			evalFoldAffix(&fi.suffixLo, s, key, true, st)
			if fi.folds.n > 0 {
				es, _ := lookupBytes(&fi.folds, key)
				for _, e := range es {
					if foldMatch(e.p, s, false) {
						st.hit(e.pred)
					}
				}
			}
		}
		if fi.wcPre.m.n > 0 {
			evalWildcards(&fi.wcPre, s, false, st)
		}
		if fi.wcSuf.m.n > 0 {
			evalWildcards(&fi.wcSuf, s, true, st)
		}
		for i := range fi.wcs {
			if fi.wcs[i].w.match(s) {
				st.hit(fi.wcs[i].pred)
			}
		}
	case vNumber:
		if fi.ranges != nil || fi.nums.n > 0 && fi.numSig.firstOK(v.str) && fi.numSig.may(v.str) {
			// Filter by the float value first; check comparability (which
			// may format the float) only for numbers that would match.
			if f, ok := v.float(); ok {
				if fi.nums.n > 0 {
					k := math.Float64bits(f)
					if ps, _ := fi.nums.lookup(k, hashUint64); len(ps) > 0 {
						if _, cmp := v.number(); cmp {
							for _, p := range ps {
								st.hit(p)
							}
						}
					}
				}
				for i := range fi.ranges {
					if fi.ranges[i].r.contains(f) {
						if _, cmp := v.number(); !cmp {
							break
						}
						st.hit(fi.ranges[i].pred)
					}
				}
			}
		}
		if fi.textLens&lenBit(len(v.str)) != 0 {
			ps, _ := lookupBytes(&fi.numTexts, v.str)
			for _, p := range ps {
				st.hit(p)
			}
		}
	case vTrue:
		for _, p := range fi.lits[0] {
			st.hit(p)
		}
	case vFalse:
		for _, p := range fi.lits[1] {
			st.hit(p)
		}
	case vNull:
		for _, p := range fi.lits[2] {
			st.hit(p)
		}
	}
	for i := range fi.abs {
		if !fi.abs[i].ab.excludes(v, st) {
			st.hit(fi.abs[i].pred)
		}
	}
}

// numSigFilter is a first filter for exact numbers that costs a few byte
// reads instead of parsing the number: a comparable event number (number.go)
// has the significant digits of the shortest text of its float64, so its
// sign, first and last significant digits, and their count, must be those of
// a pattern number. On long numeric arrays (coordinates) most values fail it
// without being parsed; the sign and first digit, read first, reject most of
// them, and the count is read only for values that pass the rest.
type numSigFilter struct {
	first  uint32     // bit sign*10 + first
	bits   [4]uint64  // bit sign*100 + first*10 + last
	counts [29]uint64 // bit (first*10 + last)*18 + number of significant digits
	zero   bool       // a pattern number is zero: every zero passes
}

func (f *numSigFilter) add(shortest []byte) {
	k, zero := numSigKey(shortest)
	if zero {
		f.zero = true
	} else if k >= 0 {
		f.first |= 1 << (k / 10)
		f.bits[k>>6] |= 1 << (k & 63)
		f.setCount(k%100, sigCount(shortest))
	}
}

func (f *numSigFilter) setCount(fl, n int) {
	if n < 18 {
		c := fl*18 + n
		f.counts[c>>6] |= 1 << (c & 63)
	}
}

// firstOK is the inlined first step of may: the sign and the first digit,
// when the number does not start with a zero.
func (f *numSigFilter) firstOK(t []byte) bool {
	if len(t) < 2 {
		return true
	}
	c, sign := t[0], uint(0)
	if c == '-' {
		c, sign = t[1], 10
	}
	if c-'1' > 8 {
		return true // a zero or "0.": may decides
	}
	return f.first&(1<<(sign+uint(c-'0'))) != 0
}

// may reports whether number text t could be equal to a pattern number.
// The sign and first digit come first (a few bytes); only numbers that pass
// are read to the end.
func (f *numSigFilter) may(t []byte) bool {
	i, sign := 0, 0
	if len(t) > 0 && t[0] == '-' {
		i, sign = 1, 1
	}
	for i < len(t) && (t[i] == '0' || t[i] == '.') {
		i++
	}
	if i == len(t) || t[i] == 'e' || t[i] == 'E' {
		return f.zero
	}
	if t[i] < '1' || t[i] > '9' {
		return true // not a plain number: no filtering
	}
	first := int(t[i] - '0')
	if f.first&(1<<(sign*10+first)) == 0 {
		return false
	}
	var n, last int
	// Plain decimals (the common case): a backward run over the digits
	// finds the '.' (or the start) without a data-dependent branch.
	k := len(t) - 1
	for k >= i && t[k]-'0' <= 9 {
		k--
	}
	if k < i || t[k] == '.' {
		j := len(t) - 1
		for j > i && (t[j] == '0' || t[j] == '.') {
			j--
		}
		last, n = int(t[j]-'0'), j-i+1
		if k > i && k < j {
			n-- // the '.' lies between the first and last significant digits
		}
	} else {
		// An exponent: one pass over the mantissa.
		n, last = 1, first
		zeros := 0
		for i++; i < len(t); i++ {
			c := t[i]
			if c == '0' {
				zeros++
			} else if c-'1' <= 8 {
				n += zeros + 1
				zeros, last = 0, int(c-'0')
			} else if c == 'e' || c == 'E' {
				break
			}
		}
	}
	k = sign*100 + first*10 + last
	if n >= 18 || f.bits[k>>6]&(1<<(k&63)) == 0 {
		return false
	}
	c := (first*10+last)*18 + n
	return f.counts[c>>6]&(1<<(c&63)) != 0
}

// sigCount returns the number of significant digits of number text: from
// the first nonzero digit to the last nonzero digit of the mantissa.
func sigCount(t []byte) int {
	n, zeros := 0, 0
	for _, c := range t {
		switch {
		case c == 'e' || c == 'E':
			return n
		case c == '0':
			if n > 0 {
				zeros++
			}
		case c >= '1' && c <= '9':
			n += zeros + 1
			zeros = 0
		}
	}
	return n
}

// numSigKey returns sign*100 + first*10 + last significant digit of JSON
// number text, or zero=true when it has no nonzero digit. For text that is
// not a plain number it returns -1. It computes the filter's keys from the
// shortest text of a pattern number; may reads event numbers the same way,
// faster (TestNumSigKeySameForEqualNumbers checks they agree).
func numSigKey(t []byte) (key int, zero bool) {
	i, sign := 0, 0
	if i < len(t) && t[i] == '-' {
		i, sign = 1, 1
	}
	for i < len(t) && (t[i] == '0' || t[i] == '.') {
		i++
	}
	if i == len(t) || t[i] == 'e' || t[i] == 'E' {
		return 0, true
	}
	if t[i] < '1' || t[i] > '9' {
		return -1, false
	}
	first := int(t[i] - '0')
	// The end of the mantissa: before an exponent, if any.
	end := len(t)
	for k := end; k > i; k-- {
		c := t[k-1]
		if c == 'e' || c == 'E' {
			end = k - 1
			break
		}
		if !(c >= '0' && c <= '9' || c == '+' || c == '-') {
			break
		}
	}
	j := end - 1
	for j > i && (t[j] == '0' || t[j] == '.') {
		j--
	}
	if t[j] < '1' || t[j] > '9' {
		return -1, false
	}
	return sign*100 + first*10 + int(t[j]-'0'), false
}
