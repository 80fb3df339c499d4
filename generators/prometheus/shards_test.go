package prometheus

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/promcheck"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// TestTheShardBlockIsValid: the relabelings sharding adds are valid in any
// job, for every shard of every count, as Prometheus' loader reads them:
// a hashmod of the address into __tmp_hash and a keep of the shard's
// number. unshardedPlusShard relies on it.
func TestTheShardBlockIsValid(t *testing.T) {
	for n := 2; n <= 16; n++ {
		for i := range n {
			var b strings.Builder
			b.WriteString("scrape_configs:\n  - job_name: x\n    static_configs: [{targets: [\"a:1\"]}]\n    relabel_configs:\n")
			for _, l := range shardBlock(i, n) {
				b.Write(l)
				b.WriteByte('\n')
			}
			require.NoError(t, promcheck.Config([]byte(b.String()), false))
			cfg := load(t, []byte(b.String()))
			rcs := cfg.ScrapeConfigs[0].RelabelConfigs
			require.Len(t, rcs, 2)
			assert.Equal(t, relabel.HashMod, rcs[0].Action)
			assert.Equal(t, uint64(n), rcs[0].Modulus)
			assert.Equal(t, "__tmp_hash", rcs[0].TargetLabel)
			assert.Equal(t, relabel.Keep, rcs[1].Action)
			assert.True(t, rcs[1].Regex.MatchString(strconv.Itoa(i)))
			assert.False(t, rcs[1].Regex.MatchString(strconv.Itoa(i+1)))
		}
	}
}

// TestShardsAreTheUnshardedConfigurationPlusSharding: with obsgen's own
// templates, every shard is the unsharded configuration (which the
// operator flavour reads anyway) plus the shard's external label and two
// relabelings in each job, and loads in
// Prometheus' loader to exactly that. Anything else that differs makes a
// shard checked on its own.
func TestShardsAreTheUnshardedConfigurationPlusSharding(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	require.True(t, engine.Embedded())
	for _, shards := range []int{2, 12} {
		in := profileWith(v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, ScrapeStrategy: v1alpha1.StrategyPermissivePort}, true)
		in.Monitoring.Prometheus.Shards = shards
		in.Monitoring.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourPrometheus, v1alpha1.FlavourOperator}
		p := plan.Resolve(in)
		configs, single, err := renderConfigs(p, engine)
		require.NoError(t, err)
		require.Len(t, configs, shards)
		base := load(t, single.Data)
		for i, f := range configs {
			require.True(t, unshardedPlusShard(single.Data, f.Data, i, shards), "shard %d of %d", i, shards)
			cfg := load(t, f.Data)
			assert.Equal(t, strconv.Itoa(i), cfg.GlobalConfig.ExternalLabels.Get(plan.ShardLabel))
			assert.Equal(t, base.GlobalConfig.ExternalLabels.Len()+1, cfg.GlobalConfig.ExternalLabels.Len())
			require.Len(t, cfg.ScrapeConfigs, len(base.ScrapeConfigs))
			sharded := 0
			for j, sc := range cfg.ScrapeConfigs {
				want := base.ScrapeConfigs[j]
				got := sc.RelabelConfigs
				for k := 0; k+1 < len(got); k++ {
					if got[k].Action == relabel.HashMod && got[k].TargetLabel == "__tmp_hash" {
						sharded++
						assert.Equal(t, relabel.Keep, got[k+1].Action, sc.JobName)
						assert.Equal(t, []model.LabelName{"__tmp_hash"}, []model.LabelName(got[k+1].SourceLabels), sc.JobName)
						got = append(got[:k:k], got[k+2:]...)
						break
					}
				}
				assert.Equal(t, want.RelabelConfigs, got, sc.JobName)
				assert.Equal(t, want.MetricRelabelConfigs, sc.MetricRelabelConfigs, sc.JobName)
			}
			assert.Equal(t, len(base.ScrapeConfigs), sharded, "every job is sharded")
		}

		one := string(configs[1].Data)
		const podName = "      - source_labels: [__meta_kubernetes_pod_name]\n"
		block := "      # Shard 1 of " + strconv.Itoa(shards) + ": keep the targets whose address hashes here.\n"
		require.Contains(t, one, block)
		for name, other := range map[string]string{
			"a line more":              one + "# more\n",
			"another modulus":          strings.Replace(one, "        modulus: "+strconv.Itoa(shards)+"\n", "        modulus: 99\n", 1),
			"another shard's keep":     strings.Replace(one, `        regex: "1"`, `        regex: "0"`, 1),
			"another shard label":      strings.Replace(one, `    shard: "1"`, `    shard: "0"`, 1),
			"the label elsewhere":      strings.Replace(strings.Replace(one, "    shard: \"1\"\n", "", 1), "\n    relabel_configs:\n", "\n    relabel_configs:\n    shard: \"1\"\n", 1),
			"the block in an item":     strings.Replace(strings.Replace(one, sectionOf(one, block), "", 1), podName, podName+sectionOf(one, block), 1),
			"the block in a discovery": strings.Replace(strings.Replace(one, sectionOf(one, block), "", 1), "\n    kubernetes_sd_configs:\n", "\n    kubernetes_sd_configs:\n"+sectionOf(one, block), 1),
			"a line less":              strings.Replace(one, "        target_label: __tmp_hash\n", "", 1),
			"the last job less":        one[:strings.LastIndex(one, "\n  - job_name:")],
			"the label in a job":       strings.Replace(strings.Replace(one, "    shard: \"1\"\n", "", 1), "\n    relabel_configs:\n", "\n    shard: \"1\"\n    relabel_configs:\n", 1),
			"the label twice":          strings.Replace(one, "    shard: \"1\"\n", "    shard: \"1\"\n    shard: \"1\"\n", 1),
		} {
			require.False(t, one == other, name)
			assert.False(t, unshardedPlusShard(single.Data, []byte(other), 1, shards), name)
		}
		// The label inside another label's value.
		folded := strings.Replace(string(single.Data), "    region: \"eu\"\n", "    region: >-\n      eu\n", 1)
		require.NotEqual(t, string(single.Data), folded)
		inside := strings.Replace(strings.Replace(one, "    shard: \"1\"\n", "", 1), "    region: \"eu\"\n", "    region: >-\n    shard: \"1\"\n      eu\n", 1)
		assert.False(t, unshardedPlusShard([]byte(folded), []byte(inside), 1, shards), "the label inside another's value")
		// A shard label of the profile's own leaves every shard to its
		// own check.
		for _, own := range []string{"    shard: \"x\"\n", "    \"shard\": \"x\"\n", "    'shard': x\n", "    shard:\t\"x\"\n", "    shard:\n      x\n"} {
			withLabel := strings.Replace(string(single.Data), "  external_labels:\n", "  external_labels:\n"+own, 1)
			require.NotEqual(t, string(single.Data), withLabel)
			assert.False(t, unshardedPlusShard([]byte(withLabel), []byte(strings.Replace(one, "  external_labels:\n", "  external_labels:\n"+own, 1)), 1, shards), "%q", own)
		}
	}
}

// sectionOf is the prom.shard block of a shard's configuration that
// starts with first, the block's comment line.
func sectionOf(config, first string) string {
	at := strings.Index(config, first)
	lines := strings.SplitAfter(config[at:], "\n")
	return strings.Join(lines[:8], "")
}

// TestTheShardBlockGoesOnlyBetweenItemsAtSixSpaces: on small texts, the
// block is taken between items of a relabel_configs list written at six
// spaces, and not where the list is written at the key's own indentation
// or the key holds a value on the next line.
func TestTheShardBlockGoesOnlyBetweenItemsAtSixSpaces(t *testing.T) {
	const head = "global:\n  external_labels:\n    cluster: \"c\"\nscrape_configs:\n  - job_name: a\n    relabel_configs:\n"
	var block strings.Builder
	for _, l := range shardBlock(1, 2) {
		block.Write(l)
		block.WriteByte('\n')
	}
	for name, tc := range map[string]struct {
		list string
		want bool
	}{
		"items at six spaces":           {list: "      - source_labels: [x]\n        target_label: y\n", want: true},
		"items at four spaces":          {list: "    - source_labels: [x]\n      target_label: y\n"},
		"an empty list on its own line": {list: "      []\n"},
		"an anchor on its own line":     {list: "      &r\n      - source_labels: [x]\n        target_label: y\n"},
	} {
		base := head + tc.list
		shard := strings.Replace(head, "    relabel_configs:\n", "    relabel_configs:\n"+block.String(), 1) + tc.list
		shard = strings.Replace(shard, "    cluster: \"c\"\n", "    cluster: \"c\"\n    shard: \"1\"\n", 1)
		assert.Equal(t, tc.want, unshardedPlusShard([]byte(base), []byte(shard), 1, 2), name)
	}
}
