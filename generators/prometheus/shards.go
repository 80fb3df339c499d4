package prometheus

import (
	"bytes"
	"strconv"

	"obsgen.dev/obsgen/internal/plan"
)

// unshardedPlusShard tells whether shard i of n is the unsharded
// configuration base with only what sharding adds:
//   - the prom.shard helper's block (templates/prometheus/_helpers.tmpl,
//     shardBlock) as whole items of a job's relabel_configs list written
//     with its items at six spaces: right after the list's key or inside
//     one of its items, and before another item or a line that ends the
//     list;
//   - once, the `shard: "<i>"` line among the external labels
//     (plan.ShardExternalLabels), when base has no shard label of its own.
//
// The block's relabelings are valid whatever the jobs (hashmod on
// __address__ into __tmp_hash with a modulus of n ≥ 2, then keep on a
// regular expression of digits; TestTheShardBlockIsValid), and a label of
// digits named shard is valid beside any others, so such a shard loads
// exactly when base does, and checking it again would only repeat base's
// check. Anything else (another line, the block elsewhere) is not.
//
// The comparison reads lines, not YAML: a value spread over several lines
// (a block scalar, a quoted string with a line break) could hide a line
// that looks like a key. obsgen's own templates write every value on one
// line (yq quotes strings with their line breaks escaped), so the caller
// asks only when no template is overridden (render.Engine.Embedded).
func unshardedPlusShard(base, shard []byte, i, n int) bool {
	if n < 2 {
		return false
	}
	block := shardBlock(i, n)
	label := []byte("    " + plan.ShardLabel + `: "` + strconv.Itoa(i) + `"`)
	bl := bytes.Split(base, []byte("\n"))
	sl := bytes.Split(shard, []byte("\n"))
	// The last line of base so far indented by at most 2, 4 and 6 spaces
	// (comments and blank lines aside), and whether the label was added.
	var under2, under4, under6 []byte
	labelled := false
	j := 0
	for k := 0; k < len(sl); {
		if j < len(bl) && bytes.Equal(sl[k], bl[j]) {
			if t := bytes.TrimLeft(bl[j], " "); len(t) > 0 && t[0] != '#' {
				switch indent := len(bl[j]) - len(t); {
				case indent <= 2:
					under2, under4, under6 = bl[j], bl[j], bl[j]
				case indent <= 4:
					under4, under6 = bl[j], bl[j]
					if string(under2) == "  external_labels:" && labelKey(t) == plan.ShardLabel {
						return false // base has a shard label of its own
					}
				case indent <= 6:
					under6 = bl[j]
				}
			}
			j++
			k++
			continue
		}
		switch {
		case string(under4) == "    relabel_configs:" && (bytes.Equal(under6, under4) || bytes.HasPrefix(under6, []byte("      - "))) &&
			endsItem(bl[j:]) && hasLines(sl[k:], block):
			k += len(block)
		case string(under2) == "  external_labels:" && !labelled && nextIndent(bl[j:]) <= 4 && bytes.Equal(sl[k], label):
			labelled = true
			k++
		default:
			return false
		}
	}
	return j == len(bl)
}

// labelKey is the key of a mapping entry `key: value`, unquoted.
func labelKey(entry []byte) string {
	key, _, _ := bytes.Cut(entry, []byte(":"))
	return string(bytes.Trim(bytes.TrimSpace(key), `"'`))
}

// endsItem tells whether what follows in lines (blank lines aside) starts
// another item of a list at six spaces, ends such a list (a line indented
// by at most four spaces that is no item of a list at four), or is
// nothing.
func endsItem(lines [][]byte) bool {
	for _, l := range lines {
		t := bytes.TrimLeft(l, " ")
		if len(t) == 0 {
			continue
		}
		switch indent := len(l) - len(t); {
		case indent == 6:
			return bytes.HasPrefix(t, []byte("- "))
		case indent == 4:
			return !bytes.HasPrefix(t, []byte("-"))
		default:
			return indent < 4
		}
	}
	return true
}

// shardBlock is the prom.shard helper's text in shard i of n
// (templates/prometheus/_helpers.tmpl), written here a second time: a
// change to the helper that is not made here too makes every shard
// checked on its own again, which TestShardsAreTheUnshardedConfigurationPlusSharding
// (it requires the shortcut for every rendered shard) reports.
func shardBlock(i, n int) [][]byte {
	s, m := strconv.Itoa(i), strconv.Itoa(n)
	return [][]byte{
		[]byte("      # Shard " + s + " of " + m + ": keep the targets whose address hashes here."),
		[]byte("      - source_labels: [__address__]"),
		[]byte("        modulus: " + m),
		[]byte("        target_label: __tmp_hash"),
		[]byte("        action: hashmod"),
		[]byte("      - source_labels: [__tmp_hash]"),
		[]byte(`        regex: "` + s + `"`),
		[]byte("        action: keep"),
	}
}

// nextIndent is the indentation of the first line of lines that is not
// blank; 0 when there is none.
func nextIndent(lines [][]byte) int {
	for _, l := range lines {
		if t := bytes.TrimLeft(l, " "); len(t) > 0 {
			return len(l) - len(t)
		}
	}
	return 0
}

// hasLines tells whether lines starts with want.
func hasLines(lines, want [][]byte) bool {
	if len(lines) < len(want) {
		return false
	}
	for i, w := range want {
		if !bytes.Equal(lines[i], w) {
			return false
		}
	}
	return true
}
