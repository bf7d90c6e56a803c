package dispatch_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/dispatch"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/vapi"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

// The worker process of TestDispatchKillWorkerProcess reads its setup from
// these variables.
const (
	childEnv        = "AUTOPULSE_DISPATCH_TEST_CHILD"
	childDSN        = "AUTOPULSE_DISPATCH_TEST_DSN"
	childVapiURL    = "AUTOPULSE_DISPATCH_TEST_VAPI_URL"
	childClockShift = "AUTOPULSE_DISPATCH_TEST_CLOCK_SHIFT"
	childHangBefore = "AUTOPULSE_DISPATCH_TEST_HANG_BEFORE"
	childHangAfter  = "AUTOPULSE_DISPATCH_TEST_HANG_AFTER"
)

// TestDispatchKillWorkerProcess kills a worker process with SIGKILL in the
// middle of dispatch: it has claimed three targets, sent the provider two
// of their dials (one request never left), and recorded none of them. The
// dead process's jobs stay running in River's table, its targets dialing.
// A fresh worker (with River's rescuer) takes over: no number is dialled
// twice, no target is lost.
func TestDispatchKillWorkerProcess(t *testing.T) {
	t.Parallel()
	if os.Getenv(childEnv) != "" {
		t.Skip("this is the worker process")
	}
	e := setup(t)
	e.clock.ticking = true
	shift := time.Until(e.clock.Now())
	org := e.org(t, orgOpts{})
	campaign := e.campaign(t, org, campaignOpts{})
	const n = 10
	targets := make([]uuid.UUID, n)
	for i := range targets {
		targets[i] = e.target(t, org, campaign, targetOpts{Phone: phone(i)})
	}
	before := []string{phone(8)}
	after := []string{phone(2), phone(5)}

	cmd := exec.Command(os.Args[0], "-test.run=^TestDispatchWorkerProcess$", "-test.v") //nolint:gosec // the test binary itself
	cmd.Env = append(os.Environ(), childEnv+"=1", childDSN+"="+e.db.AppDSN, childVapiURL+"="+e.vapi.BaseURL,
		childClockShift+"="+strconv.FormatInt(int64(shift), 10),
		childHangBefore+"="+strings.Join(before, ","), childHangAfter+"="+strings.Join(after, ","))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	hung := make(chan string, 3)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if number, ok := strings.CutPrefix(sc.Text(), "hung "); ok {
				hung <- number
			}
		}
	}()
	got := map[string]bool{}
	for range 3 {
		select {
		case number := <-hung:
			got[number] = true
		case <-time.After(60 * time.Second):
			t.Fatal("the worker process never hung")
		}
	}
	require.Len(t, got, 3)
	waitFor(t, "the other targets in call", func() bool {
		return e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status = 'in_call'`) == n-3
	})

	// SIGKILL: no deferred function, no River shutdown, no rollback to run.
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	killed = true
	require.Equal(t, 3, e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status = 'dialing'`))
	require.Equal(t, 3, e.countWhere(t, `SELECT count(*) FROM river_job WHERE kind = 'dispatch.dial' AND state = 'running'`),
		"the dead worker's jobs are stuck running")
	for _, number := range after {
		require.Equal(t, 1, e.dials.count(number))
	}
	for _, number := range before {
		require.Zero(t, e.dials.count(number))
	}

	// River's leadership would lapse with the dead process's lease (15 s);
	// let it lapse now, so the fresh worker leads and runs the rescuer at
	// once. The rescuer retries jobs running longer than RescueStuckJobsAfter.
	e.exec(t, `DELETE FROM river_leader`)
	time.Sleep(1500 * time.Millisecond)
	second := e.service(nil)
	e.startRiver(t, second, func(c *river.Config) {
		c.JobTimeout, c.RescueStuckJobsAfter = time.Second, time.Second
	})
	waitFor(t, "every target in call", func() bool {
		return e.countWhere(t, `SELECT count(*) FROM campaign_targets WHERE status = 'in_call'`) == n
	})
	e.waitJobs(t)
	for i, id := range targets {
		require.Equal(t, 1, e.dials.count(phone(i)), "number %s dialled once", phone(i))
		calls := e.callsOf(t, id)
		require.Len(t, calls, 1)
		require.NotNil(t, calls[0].ProviderCallID)
	}
	require.EqualValues(t, n, e.sim.Stats().Dialed)
}

// TestDispatchWorkerProcess is the worker process that
// TestDispatchKillWorkerProcess starts and kills; on its own it skips.
func TestDispatchWorkerProcess(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestDispatchKillWorkerProcess")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv(childDSN))
	require.NoError(t, err)
	shift, err := strconv.ParseInt(os.Getenv(childClockShift), 10, 64)
	require.NoError(t, err)
	client := &vapi.Client{
		BaseURL: os.Getenv(childVapiURL), APIKey: voicesim.DevAPIKey, PhoneNumberID: voicesim.DevPhoneNumberID,
		AssistantID: "asst-test", HTTP: &http.Client{Timeout: 10 * time.Second},
	}
	p := &hangingProvider{inner: client, modes: map[string]fault{}}
	for number := range strings.SplitSeq(os.Getenv(childHangBefore), ",") {
		p.modes[number] = hangBeforeSend
	}
	for number := range strings.SplitSeq(os.Getenv(childHangAfter), ",") {
		p.modes[number] = hangAfterSend
	}
	svc := &dispatch.Service{
		DB: &postgres.DB{Pool: pool}, Provider: p, Finder: client,
		Now: func() time.Time { return time.Now().Add(time.Duration(shift)) },
	}
	rc := newRiver(t, pool, svc)
	svc.Jobs = rc
	require.NoError(t, rc.Start(ctx))
	_, err = svc.Pass(ctx, svc.Now(), uuid.Nil)
	require.NoError(t, err)
	select {} // until killed
}

// hangingProvider hangs for good (ignoring its context) on chosen numbers,
// before or after sending the dial: a worker that stops dead.
type hangingProvider struct {
	inner voice.Provider
	modes map[string]fault
}

func (p *hangingProvider) Dial(ctx context.Context, req voice.DialRequest) (voice.DialResult, error) {
	switch p.modes[req.ToNumber] {
	case hangBeforeSend:
		fmt.Println("hung " + req.ToNumber) //nolint:forbidigo // the parent test reads this line
		select {}
	case hangAfterSend:
		if _, err := p.inner.Dial(ctx, req); err != nil {
			return voice.DialResult{}, err
		}
		fmt.Println("hung " + req.ToNumber) //nolint:forbidigo // the parent test reads this line
		select {}
	case lostResponse, uncertainNotSent, rejected, throttled: // not used in the worker process
	}
	return p.inner.Dial(ctx, req)
}

func (p *hangingProvider) GetCall(ctx context.Context, id string) (voice.CallState, error) {
	return p.inner.GetCall(ctx, id)
}
