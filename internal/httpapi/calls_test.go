package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/call"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/voice"
	"github.com/autopulse/autopulse/internal/voicesim"
)

func TestCallRecordingIsStoredAndServedWithRanges(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers())
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	ob := e.newOutbound(t, tn, outboundOptions{})
	pid := e.dial(t, ob, voice.CampaignPostServiceFeedback, voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(8), OptOut: voicesim.Ptr(false)})
	e.waitSettled(t, pid, eventsCompleted)

	var c call.CallDetail
	require.Eventually(t, func() bool {
		c = e.getCall(t, tn, ob.Call)
		return c.Recording != nil && c.Recording.Status == "stored"
	}, 60*time.Second, 20*time.Millisecond)

	// The simulator's own file, fetched independently.
	resp, err := http.Get(e.simURL + "/recordings/" + pid + ".wav") //nolint:noctx // test
	require.NoError(t, err)
	want, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	sum := sha256.Sum256(want)
	require.Equal(t, hex.EncodeToString(sum[:]), *c.Recording.SHA256)
	require.EqualValues(t, len(want), *c.Recording.SizeBytes)
	require.Equal(t, "audio/wav", *c.Recording.ContentType)
	require.True(t, strings.HasPrefix(scalar[string](t, e, `SELECT storage_key FROM audio_files WHERE call_id = $1`, ob.Call),
		"orgs/"+tn.OrgID.String()+"/recordings/"), "blobs are kept under the tenant's prefix")

	path := "/api/v1/calls/" + ob.Call.String() + "/recording"
	res := e.do(t, http.MethodGet, path, tok)
	requireStatus(t, http.StatusOK, res)
	require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
	require.Equal(t, "bytes", res.Header.Get("Accept-Ranges"))
	require.True(t, bytes.Equal(want, res.Body), "the whole file")
	etag := res.Header.Get("ETag")
	require.Equal(t, `"`+*c.Recording.SHA256+`"`, etag)

	res = e.do(t, http.MethodGet, path, tok, withHeader("Range", "bytes=100-199"))
	requireStatus(t, http.StatusPartialContent, res)
	require.Equal(t, fmt.Sprintf("bytes 100-199/%d", len(want)), res.Header.Get("Content-Range"))
	require.True(t, bytes.Equal(want[100:200], res.Body))

	res = e.do(t, http.MethodGet, path, tok, withHeader("Range", "bytes=-44"))
	requireStatus(t, http.StatusPartialContent, res)
	require.True(t, bytes.Equal(want[len(want)-44:], res.Body))

	res = e.do(t, http.MethodGet, path, tok, withHeader("Range", "bytes=0-9"), withHeader("If-Range", etag))
	requireStatus(t, http.StatusPartialContent, res)
	res = e.do(t, http.MethodGet, path, tok, withHeader("Range", "bytes=0-9"), withHeader("If-Range", `"stale"`))
	requireStatus(t, http.StatusOK, res)
	require.Len(t, res.Body, len(want))

	res = e.do(t, http.MethodGet, path, tok, withHeader("Range", "bytes="+strconv.Itoa(len(want)+10)+"-"))
	requireStatus(t, http.StatusRequestedRangeNotSatisfiable, res)

	// Another tenant sees nothing.
	other := e.newTenant(t)
	res = e.do(t, http.MethodGet, path, withToken(other.Owner.Token))
	requireStatus(t, http.StatusNotFound, res)
	res.problem(t)
}

func TestCallRecordingFromAHostNotAllowed(t *testing.T) {
	t.Parallel()
	e := setup(t, withWorkers(), withRecordingHosts("storage.vapi.ai"))
	tn := e.newTenant(t)
	ob := e.newOutbound(t, tn, outboundOptions{})
	pid := e.dial(t, ob, voice.CampaignPostServiceFeedback, voicesim.Script{Outcome: voice.OutcomeCompleted, NPS: voicesim.Ptr(8), OptOut: voicesim.Ptr(false)})
	e.waitSettled(t, pid, eventsCompleted)

	var c call.CallDetail
	require.Eventually(t, func() bool {
		c = e.getCall(t, tn, ob.Call)
		return c.Recording != nil && c.Recording.Status != "pending"
	}, 60*time.Second, 20*time.Millisecond)
	require.Equal(t, "failed", c.Recording.Status)
	require.Contains(t, *c.Recording.Error, "not in the allowed hosts")
	require.Nil(t, c.Recording.SHA256)

	res := e.do(t, http.MethodGet, "/api/v1/calls/"+ob.Call.String()+"/recording", withToken(tn.Owner.Token))
	requireStatus(t, http.StatusNotFound, res)
	require.Contains(t, res.problem(t).Detail, "failed")
	// The download gave up at once: nothing to retry.
	require.Eventually(t, func() bool {
		return scalar[string](t, e, `SELECT state::text FROM river_job WHERE kind = 'call.download_recording'`) == "completed"
	}, 30*time.Second, 20*time.Millisecond)
}

// insertCall adds a finished call directly, for the read API's tests.
func (e *env) insertCall(t *testing.T, tn *tenant, direction, status, outcome string, campaign *uuid.UUID) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7())
	require.NoError(t, e.pdb.InTenant(ctx, tn.OrgID, func(tx *postgres.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO calls (organization_id, id, campaign_id, direction, to_number, status, outcome)
			VALUES ($1, $2, $3, $4, '+13125550142', $5, NULLIF($6, ''))`, tn.OrgID, id, campaign, direction, status, outcome)
		return err
	}))
	return id
}

func TestCallListFiltersAndPages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	campaign := e.newOutbound(t, tn, outboundOptions{}) // a dialing outbound call in a campaign
	a := e.insertCall(t, tn, "outbound", "ended", "completed", &campaign.Campaign)
	b := e.insertCall(t, tn, "outbound", "ended", "no_answer", nil)
	c := e.insertCall(t, tn, "inbound", "ended", "completed", nil)
	d := e.insertCall(t, tn, "outbound", "failed", "failed", nil)
	e.insertCall(t, e.newTenant(t), "outbound", "ended", "completed", nil) // another tenant's

	ids := func(query string) []uuid.UUID {
		res := e.do(t, http.MethodGet, "/api/v1/calls"+query, tok)
		requireStatus(t, http.StatusOK, res)
		var page struct{ Items []call.Call }
		res.decode(t, &page)
		out := []uuid.UUID{}
		for _, it := range page.Items {
			out = append(out, it.ID)
		}
		return out
	}
	require.Equal(t, []uuid.UUID{d, c, b, a, campaign.Call}, ids(""), "newest first, this tenant only")
	require.Equal(t, []uuid.UUID{a, campaign.Call}, ids("?campaign_id="+campaign.Campaign.String()))
	require.Equal(t, []uuid.UUID{c, a}, ids("?outcome=completed"))
	require.Equal(t, []uuid.UUID{c}, ids("?direction=inbound"))
	require.Equal(t, []uuid.UUID{d}, ids("?status=failed"))
	require.Equal(t, []uuid.UUID{b}, ids("?outcome=no_answer&direction=outbound"))
	require.Equal(t, []uuid.UUID{campaign.Call}, ids("?customer_id="+campaign.Customer.String()))
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	require.Empty(t, ids("?since="+future))
	require.Len(t, ids("?since="+past+"&until="+future), 5)

	var seen []uuid.UUID
	cursor := ""
	for range 4 {
		res := e.do(t, http.MethodGet, "/api/v1/calls?limit=2&cursor="+cursor, tok)
		requireStatus(t, http.StatusOK, res)
		var page struct {
			Items      []call.Call
			NextCursor *string `json:"next_cursor"`
		}
		res.decode(t, &page)
		for _, it := range page.Items {
			seen = append(seen, it.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	require.Equal(t, []uuid.UUID{d, c, b, a, campaign.Call}, seen)
}

// foreignIDs makes a call, booking and inquiry in another tenant.
type foreignIDs struct{ call, booking, inquiry uuid.UUID }

func (e *env) foreign(t *testing.T) foreignIDs {
	t.Helper()
	other := e.newTenant(t)
	tok := withToken(other.Owner.Token)
	f := foreignIDs{call: e.insertCall(t, other, "outbound", "ended", "completed", nil)}
	res := e.do(t, http.MethodPost, "/api/v1/bookings", tok, withJSON(map[string]any{"customer_phone": "+13125550142", "scheduled_at": time.Now().Add(24 * time.Hour)}))
	requireStatus(t, http.StatusCreated, res)
	var b call.Booking
	res.decode(t, &b)
	f.booking = b.ID
	res = e.do(t, http.MethodPost, "/api/v1/inquiries", tok, withJSON(map[string]any{"message": "theirs"}))
	requireStatus(t, http.StatusCreated, res)
	var in call.Inquiry
	res.decode(t, &in)
	f.inquiry = in.ID
	return f
}

func TestCallRoutesBadInputAndForeignIDs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	f := e.foreign(t)
	other := e.newTenant(t)
	stranger := e.newUser(t, other, access.RoleAgent)
	mine := e.insertCall(t, tn, "outbound", "ended", "completed", nil)
	res := e.do(t, http.MethodPost, "/api/v1/bookings", tok, withJSON(map[string]any{"customer_phone": "+13125550142", "scheduled_at": time.Now().Add(time.Hour)}))
	requireStatus(t, http.StatusCreated, res)
	var booking call.Booking
	res.decode(t, &booking)
	res = e.do(t, http.MethodPost, "/api/v1/inquiries", tok, withJSON(map[string]any{"message": "mine"}))
	requireStatus(t, http.StatusCreated, res)
	var inquiry call.Inquiry
	res.decode(t, &inquiry)

	future := map[string]any{"scheduled_at": time.Now().Add(48 * time.Hour)}
	tests := []struct {
		name   string
		method string
		path   string
		opts   []reqOpt
		status int
	}{
		{"foreign call", http.MethodGet, "/api/v1/calls/" + f.call.String(), nil, http.StatusNotFound},
		{"foreign call transcript", http.MethodGet, "/api/v1/calls/" + f.call.String() + "/transcript", nil, http.StatusNotFound},
		{"foreign transcript", http.MethodGet, "/api/v1/transcripts/" + f.call.String(), nil, http.StatusNotFound},
		{"foreign recording", http.MethodGet, "/api/v1/calls/" + f.call.String() + "/recording", nil, http.StatusNotFound},
		{"foreign booking get", http.MethodGet, "/api/v1/bookings/" + f.booking.String(), nil, http.StatusNotFound},
		{"foreign booking patch", http.MethodPatch, "/api/v1/bookings/" + f.booking.String(), []reqOpt{withJSON(future)}, http.StatusNotFound},
		{"foreign booking status", http.MethodPost, "/api/v1/bookings/" + f.booking.String() + "/status", []reqOpt{withJSON(map[string]any{"status": "canceled"})}, http.StatusNotFound},
		{"foreign booking delete", http.MethodDelete, "/api/v1/bookings/" + f.booking.String(), nil, http.StatusNotFound},
		{"foreign inquiry get", http.MethodGet, "/api/v1/inquiries/" + f.inquiry.String(), nil, http.StatusNotFound},
		{"foreign inquiry patch", http.MethodPatch, "/api/v1/inquiries/" + f.inquiry.String(), []reqOpt{withJSON(map[string]any{"message": "x"})}, http.StatusNotFound},
		{"foreign inquiry assign", http.MethodPost, "/api/v1/inquiries/" + f.inquiry.String() + "/assign", []reqOpt{withJSON(map[string]any{"user_id": nil})}, http.StatusNotFound},
		{"foreign inquiry status", http.MethodPost, "/api/v1/inquiries/" + f.inquiry.String() + "/status", []reqOpt{withJSON(map[string]any{"status": "closed"})}, http.StatusNotFound},
		{"foreign inquiry delete", http.MethodDelete, "/api/v1/inquiries/" + f.inquiry.String(), nil, http.StatusNotFound},
		{"booking for a foreign call", http.MethodPost, "/api/v1/bookings", []reqOpt{withJSON(map[string]any{"call_id": f.call, "scheduled_at": time.Now().Add(time.Hour)})}, http.StatusUnprocessableEntity},
		{"booking for a foreign customer", http.MethodPost, "/api/v1/bookings", []reqOpt{withJSON(map[string]any{"customer_id": uuid.New(), "scheduled_at": time.Now().Add(time.Hour)})}, http.StatusUnprocessableEntity},
		{"inquiry for a foreign call", http.MethodPost, "/api/v1/inquiries", []reqOpt{withJSON(map[string]any{"call_id": f.call, "message": "x"})}, http.StatusUnprocessableEntity},
		{"assign to another tenant's user", http.MethodPost, "/api/v1/inquiries/" + inquiry.ID.String() + "/assign", []reqOpt{withJSON(map[string]any{"user_id": stranger.ID})}, http.StatusUnprocessableEntity},
		{"create inquiry for another tenant's user", http.MethodPost, "/api/v1/inquiries", []reqOpt{withJSON(map[string]any{"message": "x", "assigned_to": stranger.ID})}, http.StatusUnprocessableEntity},
		{"unknown call", http.MethodGet, "/api/v1/calls/" + uuid.New().String(), nil, http.StatusNotFound},
		{"recording of a call without one", http.MethodGet, "/api/v1/calls/" + mine.String() + "/recording", nil, http.StatusNotFound},
		{"bad uuid", http.MethodGet, "/api/v1/calls/not-a-uuid", nil, http.StatusUnprocessableEntity},
		{"bad uuid transcript", http.MethodGet, "/api/v1/transcripts/42", nil, http.StatusUnprocessableEntity},
		{"bad status filter", http.MethodGet, "/api/v1/calls?status=exploded", nil, http.StatusUnprocessableEntity},
		{"bad outcome filter", http.MethodGet, "/api/v1/calls?outcome=maybe", nil, http.StatusUnprocessableEntity},
		{"bad campaign filter", http.MethodGet, "/api/v1/calls?campaign_id=nope", nil, http.StatusUnprocessableEntity},
		{"bad since", http.MethodGet, "/api/v1/calls?since=yesterday", nil, http.StatusUnprocessableEntity},
		{"until before since", http.MethodGet, "/api/v1/calls?since=2025-01-02T00:00:00Z&until=2025-01-01T00:00:00Z", nil, http.StatusUnprocessableEntity},
		{"limit too large", http.MethodGet, "/api/v1/calls?limit=201", nil, http.StatusUnprocessableEntity},
		{"bad cursor", http.MethodGet, "/api/v1/calls?cursor=zzz", nil, http.StatusUnprocessableEntity},
		{"unknown query", http.MethodGet, "/api/v1/calls?colour=red", nil, http.StatusUnprocessableEntity},
		{"booking without anyone", http.MethodPost, "/api/v1/bookings", []reqOpt{withJSON(future)}, http.StatusUnprocessableEntity},
		{"booking without time", http.MethodPost, "/api/v1/bookings", []reqOpt{withJSON(map[string]any{"customer_phone": "+13125550142"})}, http.StatusUnprocessableEntity},
		{"booking with a bad phone", http.MethodPost, "/api/v1/bookings", []reqOpt{withJSON(map[string]any{"customer_phone": "555-1234", "scheduled_at": time.Now()})}, http.StatusUnprocessableEntity},
		{"booking with an unknown field", http.MethodPost, "/api/v1/bookings", []reqOpt{withJSON(map[string]any{"customer_phone": "+13125550142", "scheduled_at": time.Now(), "status": "completed"})}, http.StatusUnprocessableEntity},
		{"booking malformed json", http.MethodPost, "/api/v1/bookings", []reqOpt{withRaw("application/json", `{"scheduled_at":`)}, http.StatusBadRequest},
		{"booking bad status", http.MethodPost, "/api/v1/bookings/" + booking.ID.String() + "/status", []reqOpt{withJSON(map[string]any{"status": "scheduled"})}, http.StatusUnprocessableEntity},
		{"booking bad scheduled_from", http.MethodGet, "/api/v1/bookings?scheduled_from=soon", nil, http.StatusUnprocessableEntity},
		{"inquiry without message", http.MethodPost, "/api/v1/inquiries", []reqOpt{withJSON(map[string]any{"topic": "pricing"})}, http.StatusUnprocessableEntity},
		{"inquiry blank message", http.MethodPost, "/api/v1/inquiries", []reqOpt{withJSON(map[string]any{"message": "   "})}, http.StatusUnprocessableEntity},
		{"inquiry bad email", http.MethodPost, "/api/v1/inquiries", []reqOpt{withJSON(map[string]any{"message": "x", "customer_email": "nope"})}, http.StatusUnprocessableEntity},
		{"inquiry bad status", http.MethodPost, "/api/v1/inquiries/" + inquiry.ID.String() + "/status", []reqOpt{withJSON(map[string]any{"status": "done"})}, http.StatusUnprocessableEntity},
		{"inquiry assign without user_id", http.MethodPost, "/api/v1/inquiries/" + inquiry.ID.String() + "/assign", []reqOpt{withJSON(map[string]any{})}, http.StatusUnprocessableEntity},
		{"inquiry list with both assigned filters", http.MethodGet, "/api/v1/inquiries?unassigned=true&assigned_to=" + uuid.New().String(), nil, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.path, append([]reqOpt{tok}, tt.opts...)...)
			requireStatus(t, tt.status, res)
			require.Equal(t, tt.status, res.problem(t).Status)
		})
	}
	// The other tenant's rows are untouched.
	require.Equal(t, "scheduled", scalar[string](t, e, `SELECT status FROM bookings WHERE id = $1`, f.booking))
	require.Equal(t, "new theirs", scalar[string](t, e, `SELECT status || ' ' || message FROM inquiries WHERE id = $1`, f.inquiry))
}

func TestCallRoutesPermissions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	viewer := e.newUser(t, tn, access.RoleViewer)
	agent := e.newUser(t, tn, access.RoleAgent)
	for _, path := range []string{"/api/v1/calls", "/api/v1/bookings", "/api/v1/inquiries"} {
		requireStatus(t, http.StatusOK, e.do(t, http.MethodGet, path, withToken(viewer.Token)))
		requireStatus(t, http.StatusUnauthorized, e.do(t, http.MethodGet, path))
	}
	res := e.do(t, http.MethodPost, "/api/v1/inquiries", withToken(viewer.Token), withJSON(map[string]any{"message": "x"}))
	requireStatus(t, http.StatusForbidden, res)
	require.Contains(t, res.problem(t).Detail, "calls:write")
	res = e.do(t, http.MethodPost, "/api/v1/bookings", withToken(viewer.Token), withJSON(map[string]any{"customer_phone": "+13125550142", "scheduled_at": time.Now()}))
	requireStatus(t, http.StatusForbidden, res)
	res = e.do(t, http.MethodPost, "/api/v1/inquiries", withToken(agent.Token), withJSON(map[string]any{"message": "x"}))
	requireStatus(t, http.StatusCreated, res)
}
