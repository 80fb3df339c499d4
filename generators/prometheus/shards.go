package prometheus

import (
	"bytes"
	"strconv"

	"obsgen.dev/obsgen/internal/plan"
)

// unshardedPlusShard tells whether shard i of n is the unsharded
// configuration base with only what sharding adds, as obsgen's own
// templates write it (so the caller asks only when no template is
// overridden):
//   - the prom.shard helper's block (templates/prometheus/_helpers.tmpl,
//     shardBlock) as whole items of a job's relabel_configs list: after a
//     line of that list (or its key) and before a line that ends the
//     item, so it adds two relabelings and nothing else;
//   - the `shard: "<i>"` line among the external labels
//     (plan.ShardExternalLabels), when base has no shard label of its own.
//
// The block's relabelings are valid whatever the jobs (hashmod on
// __address__ into __tmp_hash with a modulus of n ≥ 2, then keep on a
// regular expression of digits; TestTheShardBlockIsValid), and a label of
// digits named shard is valid beside any others, so such a shard loads
// exactly when base does, and checking it again would only repeat base's
// check. Anything else (another line, the block elsewhere) is not.
func unshardedPlusShard(base, shard []byte, i, n int) bool {
	if n < 2 || bytes.Contains(base, []byte("\n    "+plan.ShardLabel+": ")) {
		return false
	}
	block := shardBlock(i, n)
	label := []byte("    " + plan.ShardLabel + `: "` + strconv.Itoa(i) + `"`)
	bl := bytes.Split(base, []byte("\n"))
	sl := bytes.Split(shard, []byte("\n"))
	var under2, under4 []byte // the last line of base so far indented by at most 2 and 4
	j := 0
	for k := 0; k < len(sl); {
		if j < len(bl) && bytes.Equal(sl[k], bl[j]) {
			if t := bytes.TrimLeft(bl[j], " "); len(t) > 0 && t[0] != '#' {
				switch indent := len(bl[j]) - len(t); {
				case indent <= 2:
					under2, under4 = bl[j], bl[j]
				case indent <= 4:
					under4 = bl[j]
				}
			}
			j++
			k++
			continue
		}
		next := nextIndent(bl[j:])
		switch {
		case string(under4) == "    relabel_configs:" && next <= 6 && hasLines(sl[k:], block):
			k += len(block)
		case string(under2) == "  external_labels:" && next <= 4 && bytes.Equal(sl[k], label):
			k++
		default:
			return false
		}
	}
	return j == len(bl)
}

// shardBlock is the prom.shard helper's text in shard i of n
// (templates/prometheus/_helpers.tmpl).
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
