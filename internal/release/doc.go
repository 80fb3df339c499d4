// Package release holds the tests of obsgen's integrations: the
// pre-commit hooks, the GitHub composite action, the GitLab CI template and
// the GoReleaser configuration at the repository's root.
package release
