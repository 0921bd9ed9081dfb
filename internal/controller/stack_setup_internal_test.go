package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

func TestRevisionChangedWakesStacksOnEveryStoredArtifact(t *testing.T) {
	stored := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	repo := func(artifact *v1alpha1.Artifact) *v1alpha1.GitRepository {
		return &v1alpha1.GitRepository{Status: v1alpha1.GitRepositoryStatus{Artifact: artifact}}
	}
	at := func(rev string, t metav1.Time) *v1alpha1.Artifact {
		return &v1alpha1.Artifact{Revision: rev, Path: "gitrepository/ns/name/" + rev + ".tar.gz", LastUpdateTime: t}
	}
	later := metav1.NewTime(stored.Add(30 * time.Second))
	tests := []struct {
		name     string
		old, new *v1alpha1.Artifact
		want     bool
	}{
		{name: "first-artifact", old: nil, new: at("main@sha1:a", stored), want: true},
		{name: "new-revision", old: at("main@sha1:a", stored), new: at("main@sha1:b", later), want: true},
		{name: "same-revision-stored-again-after-a-restart", old: at("main@sha1:a", stored), new: at("main@sha1:a", later), want: true},
		{name: "status-patch-without-a-new-artifact", old: at("main@sha1:a", stored), new: at("main@sha1:a", stored), want: false},
		{name: "no-artifact", old: nil, new: nil, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := event.UpdateEvent{ObjectOld: repo(tt.old), ObjectNew: repo(tt.new)}
			if got := (revisionChanged{}).Update(e); got != tt.want {
				t.Errorf("Update = %v, want %v", got, tt.want)
			}
		})
	}
}
