package pattern

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkParseAddr compares parseAddr with netip.ParseAddr (zones rejected).
func checkParseAddr(t *testing.T, s string) {
	t.Helper()
	want, err := netip.ParseAddr(s)
	wantOK := err == nil && want.Zone() == ""
	got, ok := parseAddr([]byte(s))
	if assert.Equal(t, wantOK, ok, "parseAddr(%q) = %v; netip: %v, %v", s, got, want, err) && ok {
		assert.Equal(t, want, got, "parseAddr(%q)", s)
	}
}

var addrSeeds = []string{
	"", ".", ":", "::", ":::", "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1",
	"01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ",
	"10.0.0.7", "2001:db8::1", "2001:DB8::", "::1", "1::", "1:2:3:4:5:6:7:8",
	"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7",
	"12345::", "1:2", ":1", "1:", "1::2::3", "::ffff:1.2.3.4", "::1.2.3.4",
	"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
	"fe80::1%eth0", "fe80::1%", "%", "1.2.3.4%x", "g::1", "0000:0000::", "00000::",
	"::ffff:01.2.3.4", "a.b.c.d", "1.2.3.4:80", "[::1]",
}

func TestParseAddrAgreesWithNetip(t *testing.T) {
	for _, s := range addrSeeds {
		checkParseAddr(t, s)
	}
	// Random strings over the characters that matter.
	const alphabet = "0123456789abcdefABCDEF:.%:.::0001g"
	r := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for range 100000 {
		sb.Reset()
		n := r.IntN(42)
		for range n {
			sb.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		checkParseAddr(t, sb.String())
	}
	// Random valid addresses, formatted both ways.
	for range 20000 {
		var b [16]byte
		for i := range b {
			if r.IntN(3) > 0 {
				b[i] = byte(r.IntN(256))
			}
		}
		a := netip.AddrFrom16(b)
		checkParseAddr(t, a.String())
		checkParseAddr(t, a.StringExpanded())
		checkParseAddr(t, netip.AddrFrom4([4]byte(b[:4])).String())
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range addrSeeds {
		f.Add(s)
	}
	f.Fuzz(checkParseAddr)
}

// TestCIDRMatchNoAlloc: string leaves of a field with cidr conditions,
// addresses or not, are matched without allocating.
func TestCIDRMatchNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop states on purpose")
	}
	m := buildIDs(t,
		`{"ip":[{"cidr":"10.0.0.0/24"}]}`,
		`{"ip":[{"cidr":"2001:db8::/32"}]}`,
		`{"ip":["192.168.0.1"]}`,
	)
	cases := []struct {
		ev   string
		want int
	}{
		{`{"ip":"10.0.0.7"}`, 1},
		{`{"ip":"2001:db8::1"}`, 1},
		{`{"ip":"192.168.000.1"}`, 1},     // Java reads leading zeros as decimal
		{`{"ip":"192.168.0.0000001"}`, 0}, // 17 bytes: a host name to Java
		{`{"ip":"192.168.0.1"}`, 1},
		{`{"ip":"abc"}`, 0},
		{`{"ip":"fe80::1%eth0"}`, 0},
	}
	for _, c := range cases {
		ev := []byte(c.ev)
		dst := make([]string, 0, 4)
		m.Match(dst, ev)
		allocs := testing.AllocsPerRun(100, func() {
			dst, _ = m.Match(dst[:0], ev)
		})
		assert.Zero(t, allocs, "Match(%s): allocations", c.ev)
		assert.Len(t, dst, c.want, "Match(%s): matches", c.ev)
	}
}

func BenchmarkCIDRMatch(b *testing.B) {
	p, err := Parse([]byte(`{"ip":[{"cidr":"10.0.0.0/24"}]}`), DefaultLimits())
	require.NoError(b, err)
	m := Build([]Entry{{ID: "x", P: p}})
	ev := []byte(`{"source":"net","ip":"10.0.0.7","port":443}`)
	dst := make([]string, 0, 4)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst, _ = m.Match(dst[:0], ev)
	}
}
