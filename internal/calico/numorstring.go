package calico

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"sync"
)

// Port is a port number, an inclusive range of port numbers, or a named port
// of the destination endpoint. It follows upstream numorstring.Port:
//
//   - a single port has MinPort == MaxPort and an empty PortName; it is
//     written as a JSON number (80);
//   - a range has MinPort < MaxPort; it is written as the string "min:max"
//     ("8000:8080");
//   - a named port has only PortName set; it is written as that string
//     ("metrics").
//
// When read, a string of digits ("80") is a single port, like upstream.
type Port struct {
	MinPort  uint16 `json:"minPort,omitempty"`
	MaxPort  uint16 `json:"maxPort,omitempty"`
	PortName string `json:"portName"`
}

var (
	allDigitsRegex = regexp.MustCompile(`^\d+$`)
	portRangeRegex = regexp.MustCompile(`^(\d+):(\d+)$`)
	// portNameRegex is upstream's rule for a named port, compiled on first
	// use: its bounded repetition costs most of obsgen's start-up.
	portNameRegex = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`) })
)

// SinglePort returns the Port for one port number.
func SinglePort(port uint16) Port { return Port{MinPort: port, MaxPort: port} }

// PortRange returns the Port for the inclusive range min..max.
func PortRange(minPort, maxPort uint16) (Port, error) {
	if minPort > maxPort {
		return Port{}, fmt.Errorf("port range %d:%d: minimum is greater than maximum", minPort, maxPort)
	}
	return Port{MinPort: minPort, MaxPort: maxPort}, nil
}

// NamedPort returns the Port for a named port of the destination endpoint.
// The name must match [a-zA-Z0-9_.-]{1,128} and must not be all digits (it
// would read back as a port number).
func NamedPort(name string) (Port, error) {
	if !portNameRegex().MatchString(name) {
		return Port{}, fmt.Errorf("invalid port name %q: want 1 to 128 characters of [a-zA-Z0-9_.-]", name)
	}
	if allDigitsRegex.MatchString(name) {
		return Port{}, fmt.Errorf("invalid port name %q: a name of digits only reads back as a port number", name)
	}
	return Port{PortName: name}, nil
}

// PortFromString parses "80", "8000:8080" or a port name.
func PortFromString(s string) (Port, error) {
	if allDigitsRegex.MatchString(s) {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return Port{}, fmt.Errorf("invalid port %q: not in 0-65535", s)
		}
		return SinglePort(uint16(n)), nil
	}
	if m := portRangeRegex.FindStringSubmatch(s); m != nil {
		lo, err1 := strconv.ParseUint(m[1], 10, 16)
		hi, err2 := strconv.ParseUint(m[2], 10, 16)
		if err1 != nil || err2 != nil {
			return Port{}, fmt.Errorf("invalid port range %q: ports must be in 0-65535", s)
		}
		return PortRange(uint16(lo), uint16(hi))
	}
	if !portNameRegex().MatchString(s) {
		return Port{}, fmt.Errorf("invalid port %q: want a number, a range \"min:max\" or a port name", s)
	}
	return Port{PortName: s}, nil
}

// MustPort is PortFromString that panics on error, for literals.
func MustPort(s string) Port {
	p, err := PortFromString(s)
	if err != nil {
		panic(err)
	}
	return p
}

// IsNamed reports whether p is a named port.
func (p Port) IsNamed() bool { return p.PortName != "" }

// Contains reports whether the numeric port n is in p. A named port contains
// no number: it can only be resolved against an endpoint.
func (p Port) Contains(n uint16) bool {
	return !p.IsNamed() && p.MinPort <= n && n <= p.MaxPort
}

// String returns "80", "8000:8080" or the port name.
func (p Port) String() string {
	switch {
	case p.PortName != "":
		return p.PortName
	case p.MinPort == p.MaxPort:
		return strconv.FormatUint(uint64(p.MinPort), 10)
	default:
		return fmt.Sprintf("%d:%d", p.MinPort, p.MaxPort)
	}
}

func (p Port) validate() error {
	if p.PortName != "" {
		if p.MinPort != 0 || p.MaxPort != 0 {
			return fmt.Errorf("port %+v has both a name and numbers", p)
		}
		_, err := NamedPort(p.PortName)
		return err
	}
	_, err := PortRange(p.MinPort, p.MaxPort)
	return err
}

// MarshalJSON writes a single port as a number and a range or a name as a
// string. It fails on an inverted range or an invalid name rather than write
// something Calico would reject.
func (p Port) MarshalJSON() ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.PortName == "" && p.MinPort == p.MaxPort {
		return json.Marshal(p.MinPort)
	}
	return json.Marshal(p.String())
}

// UnmarshalJSON reads a number in 0-65535 or a string PortFromString accepts.
func (p *Port) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := PortFromString(s)
		if err != nil {
			return err
		}
		*p = v
		return nil
	}
	n, err := strconv.ParseUint(string(b), 10, 16)
	if err != nil {
		return fmt.Errorf("invalid port %s: want an integer in 0-65535 or a string", b)
	}
	*p = SinglePort(uint16(n))
	return nil
}

// Protocol is an IP protocol: one of the names below or a protocol number
// 1-255 (kept as its decimal string). Upstream it is an int-or-string; this
// type writes a number as a JSON number and a name as a JSON string, so it
// reads back what it writes.
type Protocol string

// The protocol names Calico accepts (case-sensitive).
const (
	ProtocolTCP     Protocol = "TCP"
	ProtocolUDP     Protocol = "UDP"
	ProtocolICMP    Protocol = "ICMP"
	ProtocolICMPv6  Protocol = "ICMPv6"
	ProtocolSCTP    Protocol = "SCTP"
	ProtocolUDPLite Protocol = "UDPLite"
)

var protocolNumbers = map[Protocol]uint8{
	ProtocolICMP:    1,
	ProtocolTCP:     6,
	ProtocolUDP:     17,
	ProtocolICMPv6:  58,
	ProtocolSCTP:    132,
	ProtocolUDPLite: 136,
}

// ProtocolFromInt returns the Protocol for an IP protocol number.
func ProtocolFromInt(n uint8) Protocol { return Protocol(strconv.Itoa(int(n))) }

// ProtocolPtr returns a pointer to p, for Rule.Protocol.
func ProtocolPtr(p Protocol) *Protocol { return &p }

// Number returns the IP protocol number of p and whether p is valid: a
// known name (exact case, as Calico validates) or a number in 1-255.
func (p Protocol) Number() (uint8, bool) {
	if n, ok := protocolNumbers[p]; ok {
		return n, true
	}
	if allDigitsRegex.MatchString(string(p)) {
		n, err := strconv.ParseUint(string(p), 10, 8)
		if err == nil && n >= 1 {
			return uint8(n), true
		}
	}
	return 0, false
}

// SupportsPorts reports whether rules with p may match on ports: TCP, UDP
// and SCTP, as upstream.
func (p Protocol) SupportsPorts() bool {
	n, ok := p.Number()
	return ok && (n == 6 || n == 17 || n == 132)
}

// MarshalJSON writes a protocol number as a JSON number and a name as a
// string.
func (p Protocol) MarshalJSON() ([]byte, error) {
	if allDigitsRegex.MatchString(string(p)) {
		if n, err := strconv.ParseUint(string(p), 10, 8); err == nil {
			return json.Marshal(n)
		}
	}
	return json.Marshal(string(p))
}

// UnmarshalJSON reads a number in 0-255 or a string. A string of digits in
// 0-255 is a number, like upstream; other strings are kept as they are (and
// rejected by the Evaluator unless they are a known name).
func (p *Protocol) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if n, err := strconv.ParseUint(s, 10, 8); err == nil {
			*p = ProtocolFromInt(uint8(n))
			return nil
		}
		*p = Protocol(s)
		return nil
	}
	n, err := strconv.ParseUint(string(b), 10, 8)
	if err != nil {
		return fmt.Errorf("invalid protocol %s: want an integer in 0-255 or a string", b)
	}
	*p = ProtocolFromInt(uint8(n))
	return nil
}
