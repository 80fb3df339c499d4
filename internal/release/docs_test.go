package release

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocumentationLinksResolve: every relative link of the README and the
// pages in docs/ names a file or folder of the repository, and every link
// to a heading of another page names a heading that page has.
func TestDocumentationLinksResolve(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	pages = append(pages, filepath.Join(repoRoot, "README.md"))
	checked := 0
	for _, page := range pages {
		data, err := os.ReadFile(page)
		require.NoError(t, err)
		for _, m := range mdLink.FindAllStringSubmatch(string(data), -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			target, anchor, _ := strings.Cut(link, "#")
			file := page
			if target != "" {
				file = filepath.Join(filepath.Dir(page), filepath.FromSlash(target))
				_, err := os.Stat(file)
				assert.NoError(t, err, "%s links to %s", filepath.Base(page), link)
			}
			if anchor != "" && strings.HasSuffix(file, ".md") {
				body, err := os.ReadFile(file)
				if assert.NoError(t, err) {
					assert.Contains(t, anchors(string(body)), anchor, "%s links to %s", filepath.Base(page), link)
				}
			}
			checked++
		}
	}
	assert.Greater(t, checked, 10)
}

// anchors are the GitHub heading anchors of a Markdown page.
func anchors(md string) []string {
	var out []string
	drop := regexp.MustCompile("[^a-z0-9 _-]")
	for line := range strings.Lines(md) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		h = drop.ReplaceAllString(strings.ToLower(h), "")
		out = append(out, strings.ReplaceAll(h, " ", "-"))
	}
	return out
}
