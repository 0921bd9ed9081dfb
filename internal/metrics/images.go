package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// imageScans are the metrics of ImageRepository scans.
type imageScans struct {
	duration *prometheus.HistogramVec
	tags     *prometheus.GaugeVec
}

func newImageScans(reg prometheus.Registerer) *imageScans {
	s := &imageScans{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flotilla_image_scan_duration_seconds",
			Help:    "Duration of one registry scan of an ImageRepository (listing its tags), by result.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"namespace", "name", "result"}),
		tags: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flotilla_image_tags",
			Help: "Tags kept by the last successful scan of an ImageRepository.",
		}, []string{"namespace", "name"}),
	}
	s.duration = register(reg, s.duration)
	s.tags = register(reg, s.tags)
	return s
}

// ImageScan records one scan of ImageRepository ns/name that started at
// start; tags is the count kept, recorded when the result is success.
func (r *Recorder) ImageScan(ns, name, result string, start time.Time, tags int) {
	if r == nil {
		return
	}
	r.scans.duration.WithLabelValues(ns, name, result).Observe(time.Since(start).Seconds())
	if result == ResultSuccess {
		r.scans.tags.WithLabelValues(ns, name).Set(float64(tags))
	}
}

// ForgetImageRepository drops the series of a deleted ImageRepository.
func (r *Recorder) ForgetImageRepository(ns, name string) {
	if r == nil {
		return
	}
	r.scans.tags.DeleteLabelValues(ns, name)
	r.scans.duration.DeletePartialMatch(prometheus.Labels{"namespace": ns, "name": name})
}
