package metrics

import (
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// RegisterPool exports pool's statistics under pool="name". The figures are
// read from pgxpool at scrape time, so they cost nothing between scrapes.
func (m *Metrics) RegisterPool(name string, pool *pgxpool.Pool) {
	if m == nil || pool == nil {
		return
	}
	m.pools.mu.Lock()
	defer m.pools.mu.Unlock()
	m.pools.pools = append(m.pools.pools, namedPool{name: name, pool: pool})
}

type namedPool struct {
	name string
	pool *pgxpool.Pool
}

// poolCollector is one collector for every registered pool, so a second
// pool adds series rather than a second, conflicting set of descriptors.
type poolCollector struct {
	mu    sync.Mutex
	pools []namedPool
}

func poolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_pool", name), help, []string{"pool"}, nil)
}

var (
	poolAcquiredConns     = poolDesc("acquired_conns", "Connections currently checked out of the pool.")
	poolIdleConns         = poolDesc("idle_conns", "Idle connections in the pool.")
	poolConstructingConns = poolDesc("constructing_conns", "Connections being opened.")
	poolTotalConns        = poolDesc("total_conns", "All connections of the pool: acquired, idle and being opened.")
	poolMaxConns          = poolDesc("max_conns", "The pool's size limit.")
	poolAcquires          = poolDesc("acquires_total", "Successful connection acquisitions.")
	poolAcquireSeconds    = poolDesc("acquire_duration_seconds_total", "Total time spent acquiring connections (successful acquisitions).")
	poolEmptyAcquires     = poolDesc("empty_acquires_total", "Acquisitions that found no idle connection and had to wait for one to be opened or released.")
	poolEmptyWaitSeconds  = poolDesc("empty_acquire_wait_seconds_total", "Total time acquisitions spent waiting because the pool had no idle connection.")
	poolCanceledAcquires  = poolDesc("canceled_acquires_total", "Acquisitions abandoned because their context ended.")
	poolNewConns          = poolDesc("new_conns_total", "Connections opened.")
	poolLifetimeDestroys  = poolDesc("max_lifetime_destroys_total", "Connections closed for reaching their maximum lifetime.")
	poolIdleDestroys      = poolDesc("max_idle_destroys_total", "Connections closed for staying idle too long.")
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		poolAcquiredConns, poolIdleConns, poolConstructingConns, poolTotalConns, poolMaxConns,
		poolAcquires, poolAcquireSeconds, poolEmptyAcquires, poolEmptyWaitSeconds, poolCanceledAcquires,
		poolNewConns, poolLifetimeDestroys, poolIdleDestroys,
	} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	pools := append([]namedPool(nil), c.pools...)
	c.mu.Unlock()
	for _, p := range pools {
		s := p.pool.Stat()
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, p.name)
		}
		counter := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, p.name)
		}
		gauge(poolAcquiredConns, float64(s.AcquiredConns()))
		gauge(poolIdleConns, float64(s.IdleConns()))
		gauge(poolConstructingConns, float64(s.ConstructingConns()))
		gauge(poolTotalConns, float64(s.TotalConns()))
		gauge(poolMaxConns, float64(s.MaxConns()))
		counter(poolAcquires, float64(s.AcquireCount()))
		counter(poolAcquireSeconds, s.AcquireDuration().Seconds())
		counter(poolEmptyAcquires, float64(s.EmptyAcquireCount()))
		counter(poolEmptyWaitSeconds, s.EmptyAcquireWaitTime().Seconds())
		counter(poolCanceledAcquires, float64(s.CanceledAcquireCount()))
		counter(poolNewConns, float64(s.NewConnsCount()))
		counter(poolLifetimeDestroys, float64(s.MaxLifetimeDestroyCount()))
		counter(poolIdleDestroys, float64(s.MaxIdleDestroyCount()))
	}
}
