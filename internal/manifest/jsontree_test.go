package manifest

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowDecode is what decodeObject must agree with: encoding/json with
// UseNumber.
func slowDecode(data []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	err := dec.Decode(&m)
	return m, err
}

func assertDecodesAsEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := slowDecode(data)
	got, err := decodeObject(data)
	if wantErr != nil {
		assert.Error(t, err, "%q", data)
		return
	}
	require.NoError(t, err, "%q", data)
	assert.Equal(t, want, got, "%q", data)
}

func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, `{"a":{}}`, `{"a":[]}`, `{"a":[{},[],null,true,false]}`,
		`{"n":0,"m":-0,"f":1.5,"e":1e+21,"E":-2.5E-7,"big":123456789012345678901234567890}`,
		`{"s":"plain","q":"\"quoted\" \\ back\/slash","c":"\n\t\r","h":"\u003ca\u003e\u0026"}`,
		`{"u":"héllo → 世界 🙂","mixed":"é\n→"}`,
		`{"ls":"\u2028\u2029","ctl":"\u0001\u001f","bs":"\b\f","up":"\u00E9","pair":"\ud83d\ude42","lone":"\ud800x"}`,
		`{"dup":1,"dup":2}`,
		`{ "spaced" : [ 1 , 2 ] }`, "{\"nl\":\n1}",
		`{"a":1}{"b":2}`,
		// Not JSON: both refuse.
		`{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":.5}`, `{"a":+1}`,
		`{"a":tru}`, `{"a":nul}`, `{"a":"x`, `{"a" 1}`, `{"a":1,}`, `{"a":[1,]}`, `{a:1}`,
		"{\"a\":\"tab\there\"}", `{"a":"\x"}`, `{"a":"\u12"}`, `[]`, `"s"`, `1`, ``, `{`,
		"{\"inv\":\"\xff\xfe\"}", "{\"cut\":\"\xe2\x82\"}",
	} {
		assertDecodesAsEncodingJSON(t, []byte(in))
	}
}

// TestDecodeObjectMatchesEncodingJSONOnRandomValues marshals random values
// as obsgen's objects hold them (nested maps and lists, strings with any
// rune and invalid UTF-8, integers and floats) and decodes them both ways.
func TestDecodeObjectMatchesEncodingJSONOnRandomValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	runes := []rune{'a', 'z', '0', ' ', '"', '\\', '/', '\n', '\t', '\r', '\b', '\f', 0, 0x1f, 0x7f,
		'<', '>', '&', 'é', '→', '世', '🙂', 0x2028, 0x2029, 0xfffd, utf8Max}
	var randString func() string
	randString = func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			if rng.IntN(20) == 0 {
				b.WriteByte(byte(0x80 + rng.IntN(0x80))) // invalid UTF-8
				continue
			}
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		return b.String()
	}
	var randValue func(depth int) any
	randValue = func(depth int) any {
		switch k := rng.IntN(9); {
		case k == 0 && depth < 4:
			m := map[string]any{}
			for range rng.IntN(5) {
				m[randString()] = randValue(depth + 1)
			}
			return m
		case k == 1 && depth < 4:
			l := []any{}
			for range rng.IntN(5) {
				l = append(l, randValue(depth+1))
			}
			return l
		case k == 2:
			return rng.Int64() >> rng.IntN(64)
		case k == 3:
			return -rng.Int64() >> rng.IntN(64)
		case k == 4:
			f := []float64{0, 0.5, -1.25, 1e21, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64, rng.NormFloat64() * 1e6}
			return f[rng.IntN(len(f))]
		case k == 5:
			return rng.IntN(2) == 0
		case k == 6:
			return nil
		case k == 7:
			return uint64(math.MaxUint64)
		}
		return randString()
	}
	for range 20000 {
		top := map[string]any{}
		for range rng.IntN(6) {
			top[randString()] = randValue(0)
		}
		data, err := json.Marshal(top)
		require.NoError(t, err)
		assertDecodesAsEncodingJSON(t, data)
	}
}

const utf8Max = '\U0010FFFF'

func BenchmarkDecodeObject(b *testing.B) {
	obj := map[string]any{"apiVersion": "v1", "kind": "X", "metadata": map[string]any{"name": "n", "labels": map[string]any{"a": "b"}},
		"spec": map[string]any{"list": []any{1, 2.5, "three", true, nil, map[string]any{"k": "v → w"}}}}
	data, err := json.Marshal(obj)
	require.NoError(b, err)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeObject(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := slowDecode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDecodeObjectLeavesDeepNestingToEncodingJSON: past encoding/json's
// 10,000 levels, decodeObject refuses as it does instead of recursing on.
func TestDecodeObjectLeavesDeepNestingToEncodingJSON(t *testing.T) {
	for _, depth := range []int{9999, 10000, 10001, 50000} {
		for _, open := range []string{`{"a":`, `{"a":[`} {
			closeWith := "}"
			if open == `{"a":[` {
				closeWith = "]}"
			}
			data := []byte(strings.Repeat(open, depth) + "1" + strings.Repeat(closeWith, depth))
			assertDecodesAsEncodingJSON(t, data)
		}
	}
}
