package pattern

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
)

// parseAddr parses an IPv4 or IPv6 address without a zone from b, accepting
// exactly what netip.ParseAddr accepts (less zones). It exists because
// netip.ParseAddr takes a string: converting an event's bytes and building
// its error values would allocate on every string leaf of a field with cidr
// or IP-address conditions. TestParseAddrAgreesWithNetip checks the two
// agree.
func parseAddr(b []byte) (netip.Addr, bool) {
	for _, c := range b {
		switch c {
		case '.':
			var f [4]byte
			if !parseIPv4Fields(b, f[:]) {
				return netip.Addr{}, false
			}
			return netip.AddrFrom4(f), true
		case ':':
			return parseIPv6(b)
		case '%':
			return netip.Addr{}, false
		}
	}
	return netip.Addr{}, false
}

// parseIPv4Fields parses dotted-decimal b into four bytes: four fields of
// one to three digits, each at most 255, no leading zeros.
func parseIPv4Fields(b []byte, fields []byte) bool {
	val, pos, digits := 0, 0, 0
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return false
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return false
			}
		case c == '.':
			if i == 0 || i == len(b)-1 || b[i-1] == '.' || pos == 3 {
				return false
			}
			fields[pos] = byte(val)
			pos++
			val, digits = 0, 0
		default:
			return false
		}
	}
	if pos < 3 {
		return false
	}
	fields[3] = byte(val)
	return true
}

// parseIPv6 parses an IPv6 address without a zone: up to eight groups of
// one to four hex digits, one optional "::" standing for at least one zero
// group, and an optional embedded IPv4 address in the last 32 bits.
func parseIPv6(s []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
		if len(s) == 0 {
			return netip.IPv6Unspecified(), true
		}
	}
	i := 0
	for i < 16 {
		off, acc := 0, uint32(0)
		for ; off < len(s); off++ {
			c := s[off]
			switch {
			case c >= '0' && c <= '9':
				acc = acc<<4 + uint32(c-'0')
			case c >= 'a' && c <= 'f':
				acc = acc<<4 + uint32(c-'a'+10)
			case c >= 'A' && c <= 'F':
				acc = acc<<4 + uint32(c-'A'+10)
			default:
				goto done
			}
			if off > 3 {
				return netip.Addr{}, false
			}
		}
	done:
		if off == 0 {
			return netip.Addr{}, false
		}
		if off < len(s) && s[off] == '.' {
			if ellipsis < 0 && i != 12 || i+4 > 16 {
				return netip.Addr{}, false
			}
			if !parseIPv4Fields(s, ip[i:i+4]) {
				return netip.Addr{}, false
			}
			s = nil
			i += 4
			break
		}
		ip[i], ip[i+1] = byte(acc>>8), byte(acc)
		i += 2
		s = s[off:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return netip.Addr{}, false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			s = s[1:]
			if len(s) == 0 {
				break
			}
		}
	}
	if len(s) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(ip), true
}

// ipLiteral reads an IP address the way event-ruler does (CIDR.ipToBytes,
// which hands what its two regular expressions accept to Java's
// InetAddress), for event strings, exact pattern strings and cidr operands
// alike: IPv4 as four dotted decimal fields (javaIPv4), or IPv6 written with
// hex digits and colons only (no embedded dotted IPv4 such as
// ::ffff:1.2.3.4, no zone). An IPv4-mapped IPv6 address (::ffff:102:304) is
// the IPv4 address it maps, as Java's InetAddress makes it.
func ipLiteral(b []byte) (netip.Addr, bool) {
	if f, ok := javaIPv4(b); ok {
		return netip.AddrFrom4(f), true
	}
	if bytes.IndexByte(b, '.') >= 0 || bytes.IndexByte(b, ':') < 0 {
		return netip.Addr{}, false
	}
	a, ok := parseIPv6(b)
	if !ok {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// javaIPv4 reads b as Java reads an IPv4 literal of four fields
// (IPAddressUtil.textToNumericFormatV4 behind InetAddress.getByName): at
// most 15 bytes, four fields of ASCII decimal digits, each at most 255.
// Unlike netip, a field may have leading zeros, read as decimal, never
// octal: "10.000.0.01" is 10.0.0.1 and "010.0.0.1" is 10.0.0.1. Longer
// text is a host name to Java, not an address.
func javaIPv4(b []byte) (f [4]byte, ok bool) {
	if len(b) > 15 {
		return f, false
	}
	pos, val, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return f, false
			}
		case c == '.' && digits > 0 && pos < 3:
			f[pos] = byte(val)
			pos++
			val, digits = 0, 0
		default:
			return f, false
		}
	}
	if pos != 3 || digits == 0 {
		return f, false
	}
	f[3] = byte(val)
	return f, true
}

// parseCIDR reads a cidr operand as event-ruler's CIDR.cidr does: an address
// (ipLiteral), one '/', and a decimal mask of at most 31 bits for IPv4 and
// 127 for IPv6 (a /32 or /128 block is one address: list it as a plain
// string). The block is returned masked. reason says what is wrong.
func parseCIDR(s string) (netip.Prefix, string) {
	addr, bits, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(bits, "/") {
		return netip.Prefix{}, "is not a CIDR block: it needs one '/' between the address and the mask length"
	}
	n, err := strconv.Atoi(bits)
	if err != nil {
		return netip.Prefix{}, "is not a CIDR block: the mask length " + strconv.Quote(bits) + " is not an integer"
	}
	if n < 0 {
		return netip.Prefix{}, "is not a CIDR block: the mask length must not be negative"
	}
	a, isIP := ipLiteral([]byte(addr))
	if !isIP {
		return netip.Prefix{}, "is not a CIDR block: " + strconv.Quote(addr) + " is not a standard IPv4 or IPv6 address"
	}
	limit := 127
	if a.Is4() {
		limit = 31
	}
	if n > limit {
		family := "IPv6"
		if a.Is4() {
			family = "IPv4"
		}
		return netip.Prefix{}, "is not a CIDR block: the mask of an " + family + " address must be at most " +
			strconv.Itoa(limit) + " bits (a /" + strconv.Itoa(limit+1) + " is one address: list it as a plain string), got " + strconv.Itoa(n)
	}
	p, err := a.Prefix(n)
	if err != nil {
		return netip.Prefix{}, "is not a valid CIDR block"
	}
	return p, ""
}
