package calico

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPortJSON(t *testing.T) {
	rng, err := PortRange(8000, 8080)
	require.NoError(t, err)
	named, err := NamedPort("metrics")
	require.NoError(t, err)

	// Marshal: a single port is a number, a range and a name are strings,
	// as upstream numorstring.Port.
	for _, tt := range []struct {
		port Port
		want string
	}{
		{SinglePort(80), `80`},
		{SinglePort(0), `0`},
		{SinglePort(65535), `65535`},
		{rng, `"8000:8080"`},
		{named, `"metrics"`},
		{Port{MinPort: 443, MaxPort: 443}, `443`}, // a one-port range is a single port
	} {
		b, err := json.Marshal(tt.port)
		require.NoError(t, err)
		assert.Equal(t, tt.want, string(b), "%+v", tt.port)
	}

	// Marshal refuses what Calico would reject.
	for _, bad := range []Port{
		{MinPort: 10, MaxPort: 1},               // inverted range
		{PortName: "has space"},                 // invalid name
		{PortName: "8080"},                      // a name that reads back as a number
		{MinPort: 1, MaxPort: 2, PortName: "x"}, // both
	} {
		_, err := json.Marshal(bad)
		assert.Error(t, err, "%+v", bad)
	}

	// Unmarshal.
	for _, tt := range []struct {
		in   string
		want Port
	}{
		{`80`, SinglePort(80)},
		{`"80"`, SinglePort(80)}, // a string of digits is a port number, not a name
		{`"0:65535"`, Port{MinPort: 0, MaxPort: 65535}},
		{`"1:10"`, Port{MinPort: 1, MaxPort: 10}},
		{`"80:80"`, SinglePort(80)},
		{`"foo-bar"`, Port{PortName: "foo-bar"}},
		{` 7 `, SinglePort(7)},
	} {
		var p Port
		require.NoError(t, json.Unmarshal([]byte(tt.in), &p), tt.in)
		assert.Equal(t, tt.want, p, tt.in)
	}
	for _, in := range []string{`-1`, `65536`, `"0:65536"`, `"-1:65535"`, `"10:1"`, `"1:2:3"`, `"*"`, `"a b"`, `null`, `1.5`, `true`, `""`} {
		var p Port
		assert.Error(t, json.Unmarshal([]byte(in), &p), in)
	}

	// Round trip inside an EntityRule.
	e := EntityRule{Ports: []Port{SinglePort(80), rng, named}, NotPorts: []Port{SinglePort(8081)}}
	b, err := json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ports":[80,"8000:8080","metrics"],"notPorts":[8081]}`, string(b))
	var back EntityRule
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, e, back)
}

func TestPortConstructors(t *testing.T) {
	_, err := PortRange(2, 1)
	assert.ErrorContains(t, err, "minimum is greater than maximum")
	_, err = NamedPort("1234")
	assert.ErrorContains(t, err, "digits only")
	_, err = NamedPort("")
	assert.Error(t, err)
	assert.Equal(t, "8000:8080", MustPort("8000:8080").String())
	assert.True(t, MustPort("8000:8080").Contains(8000))
	assert.True(t, MustPort("8000:8080").Contains(8080))
	assert.False(t, MustPort("8000:8080").Contains(8081))
	assert.False(t, MustPort("http").Contains(0), "a named port contains no number")
	assert.Panics(t, func() { MustPort("10:1") })
}

func TestProtocolJSON(t *testing.T) {
	for _, tt := range []struct {
		p    Protocol
		want string
	}{
		{ProtocolTCP, `"TCP"`},
		{ProtocolICMPv6, `"ICMPv6"`},
		{ProtocolFromInt(6), `6`}, // a number stays a number
		{Protocol("tcp"), `"tcp"`},
	} {
		b, err := json.Marshal(tt.p)
		require.NoError(t, err)
		assert.Equal(t, tt.want, string(b))
	}
	for _, tt := range []struct {
		in   string
		want Protocol
	}{
		{`"UDP"`, ProtocolUDP},
		{`17`, Protocol("17")},
		{`"17"`, Protocol("17")}, // digits in a string are a number, like upstream
		{`"256"`, Protocol("256")},
	} {
		var p Protocol
		require.NoError(t, json.Unmarshal([]byte(tt.in), &p), tt.in)
		assert.Equal(t, tt.want, p, tt.in)
	}
	for _, in := range []string{`256`, `-1`, `1.5`, `null`} {
		var p Protocol
		assert.Error(t, json.Unmarshal([]byte(in), &p), in)
	}

	// Validity is Calico's: names are case-sensitive, numbers 1-255.
	for p, want := range map[Protocol]bool{
		ProtocolTCP: true, ProtocolUDPLite: true, "17": true, "255": true,
		"tcp": false, "0": false, "256": false, "": false, "GRE": false,
	} {
		_, ok := p.Number()
		assert.Equal(t, want, ok, "%q", p)
	}
	assert.True(t, ProtocolFromInt(132).SupportsPorts(), "SCTP has ports")
	assert.False(t, ProtocolICMP.SupportsPorts())
}
