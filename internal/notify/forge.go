package notify

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// commitPattern finds the commit of a revision like main@sha1:<hex>.
var commitPattern = regexp.MustCompile(`(?:^|@)sha1:([0-9a-f]{40})$`)

// CommitOf returns the commit SHA of a revision, "" when it names none.
func CommitOf(revision string) string {
	if m := commitPattern.FindStringSubmatch(revision); m != nil {
		return m[1]
	}
	return ""
}

// statusDescriptionMax is GitHub's limit on a status description.
const statusDescriptionMax = 140

// repo is a forge repository parsed from a Provider address.
type repo struct {
	base *url.URL // scheme and host
	path string   // owner/name (GitLab: group/subgroup/name)
}

// ErrRepoAddress is an address that names no repository.
var ErrRepoAddress = errors.New("address must be a repository URL like https://host/owner/name")

func parseRepo(address string) (repo, error) {
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		return repo{}, ErrRepoAddress
	}
	p := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	if strings.Count(p, "/") < 1 {
		return repo{}, ErrRepoAddress
	}
	return repo{base: &url.URL{Scheme: u.Scheme, Host: u.Host}, path: p}, nil
}

// statusContext names Flotilla's status per object, so each Stack has its own check.
func statusContext(m Message) string {
	o := m.Event.Object
	return "flotilla/" + strings.ToLower(o.Kind) + "/" + o.Namespace + "/" + o.Name
}

func statusDescription(m Message) string {
	return truncate(m.Title(), statusDescriptionMax-3)
}

// statusTarget is what every commit status names: the commit, the
// repository, and the state, in the forge's own words.
type statusTarget struct {
	sha   string
	repo  repo
	state string
}

// target reads the commit of m's revision and the repository of the
// address; ok is false when the revision names no commit. failState is the
// forge's word for a failure (success is the same word everywhere).
func target(cfg ProviderConfig, m Message, failState string) (statusTarget, bool, error) {
	sha := CommitOf(m.Event.Revision)
	if sha == "" {
		return statusTarget{}, false, nil
	}
	r, err := parseRepo(cfg.Address)
	if err != nil {
		return statusTarget{}, false, err
	}
	state := "success"
	if m.Severity() == SeverityError {
		state = failState
	}
	return statusTarget{sha: sha, repo: r, state: state}, true, nil
}

// githubRequest creates a commit status: POST /repos/{owner}/{repo}/statuses/{sha}
// on api.github.com, or on <host>/api/v3 for GitHub Enterprise.
func githubRequest(cfg ProviderConfig, m Message) (*request, error) {
	tg, ok, err := target(cfg, m, "failure")
	if !ok {
		return nil, err
	}
	api := tg.repo.base.JoinPath("api", "v3")
	if tg.repo.base.Host == "github.com" {
		api = &url.URL{Scheme: "https", Host: "api.github.com"}
	}
	body := map[string]string{"state": tg.state, "context": statusContext(m), "description": statusDescription(m)}
	return jsonRequest(api.JoinPath("repos", tg.repo.path, "statuses", tg.sha).String(), body, map[string]string{
		"Authorization":        "Bearer " + cfg.Token,
		"Accept":               "application/vnd.github+json",
		"X-GitHub-Api-Version": "2022-11-28",
	})
}

// gitlabRequest sets a commit status: POST /api/v4/projects/{url-encoded
// path}/statuses/{sha} with a PRIVATE-TOKEN header.
func gitlabRequest(cfg ProviderConfig, m Message) (*request, error) {
	tg, ok, err := target(cfg, m, "failed")
	if !ok {
		return nil, err
	}
	u := tg.repo.base.String() + "/api/v4/projects/" + url.PathEscape(tg.repo.path) + "/statuses/" + tg.sha
	body := map[string]string{"state": tg.state, "name": statusContext(m), "description": statusDescription(m)}
	return jsonRequest(u, body, map[string]string{"PRIVATE-TOKEN": cfg.Token})
}

// giteaRequest creates a commit status: POST /api/v1/repos/{owner}/{repo}/statuses/{sha}.
func giteaRequest(cfg ProviderConfig, m Message) (*request, error) {
	tg, ok, err := target(cfg, m, "failure")
	if !ok {
		return nil, err
	}
	if strings.Count(tg.repo.path, "/") != 1 {
		return nil, fmt.Errorf("%w (Gitea has no subgroups)", ErrRepoAddress)
	}
	body := map[string]string{"state": tg.state, "context": statusContext(m), "description": statusDescription(m)}
	return jsonRequest(tg.repo.base.JoinPath("api", "v1", "repos", tg.repo.path, "statuses", tg.sha).String(), body,
		map[string]string{"Authorization": "token " + cfg.Token})
}
