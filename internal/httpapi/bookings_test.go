package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/call"
)

func TestBookingsCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	ob := e.newOutbound(t, tn, outboundOptions{})
	at := time.Date(2030, 5, 6, 14, 30, 0, 0, time.UTC)

	res := e.do(t, http.MethodPost, "/api/v1/bookings", tok, withJSON(map[string]any{
		"customer_id": ob.Customer, "campaign_id": ob.Campaign, "scheduled_at": at, "service_type": " Oil change ",
	}))
	requireStatus(t, http.StatusCreated, res)
	var b call.Booking
	res.decode(t, &b)
	require.Equal(t, "Casey Driver", b.CustomerName, "filled from the customer")
	require.Equal(t, ob.Phone, *b.CustomerPhone)
	require.Equal(t, "Oil change", *b.ServiceType)
	require.True(t, at.Equal(b.ScheduledAt))
	require.Equal(t, call.BookingScheduled, b.Status)

	later := at.Add(24 * time.Hour)
	res = e.do(t, http.MethodPatch, "/api/v1/bookings/"+b.ID.String(), tok, withJSON(map[string]any{"scheduled_at": later, "notes": "Loaner requested", "service_type": ""}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &b)
	require.True(t, later.Equal(b.ScheduledAt))
	require.Equal(t, "Loaner requested", b.Notes)
	require.Nil(t, b.ServiceType, "empty clears")
	require.Equal(t, ob.Phone, *b.CustomerPhone, "absent fields are unchanged")

	res = e.do(t, http.MethodGet, "/api/v1/bookings?status=scheduled&customer_id="+ob.Customer.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var list struct{ Items []call.Booking }
	res.decode(t, &list)
	require.Len(t, list.Items, 1)
	res = e.do(t, http.MethodGet, "/api/v1/bookings?scheduled_from="+later.Add(time.Minute).Format(time.RFC3339), tok)
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &list)
	require.Empty(t, list.Items)

	// scheduled → completed; then nothing else.
	res = e.do(t, http.MethodPost, "/api/v1/bookings/"+b.ID.String()+"/status", tok, withJSON(map[string]any{"status": "completed"}))
	requireStatus(t, http.StatusOK, res)
	res.decode(t, &b)
	require.Equal(t, call.BookingCompleted, b.Status)
	for _, next := range []string{"canceled", "no_show", "completed"} {
		res = e.do(t, http.MethodPost, "/api/v1/bookings/"+b.ID.String()+"/status", tok, withJSON(map[string]any{"status": next}))
		requireStatus(t, http.StatusConflict, res)
		require.Contains(t, res.problem(t).Detail, "completed booking cannot become "+next)
	}
	res = e.do(t, http.MethodPatch, "/api/v1/bookings/"+b.ID.String(), tok, withJSON(map[string]any{"notes": "too late"}))
	requireStatus(t, http.StatusConflict, res)

	res = e.do(t, http.MethodDelete, "/api/v1/bookings/"+b.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	requireStatus(t, http.StatusNotFound, e.do(t, http.MethodGet, "/api/v1/bookings/"+b.ID.String(), tok))

	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=booking&entity_id="+b.ID.String(), tok)
	requireStatus(t, http.StatusOK, res)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	require.Equal(t, []string{audit.Delete, audit.Update, audit.Update, audit.Create}, auditActions(logs.Items))
	require.Equal(t, tn.Owner.ID, *logs.Items[0].ActorUserID)
	require.Contains(t, string(logs.Items[1].OldValue), `"scheduled"`)
	require.Contains(t, string(logs.Items[1].NewValue), `"completed"`)
}

func TestBookingStatusTransitions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	for _, status := range []string{"canceled", "no_show", "completed"} {
		res := e.do(t, http.MethodPost, "/api/v1/bookings", tok, withJSON(map[string]any{"customer_phone": "+13125550142", "scheduled_at": time.Now().Add(time.Hour)}))
		requireStatus(t, http.StatusCreated, res)
		var b call.Booking
		res.decode(t, &b)
		res = e.do(t, http.MethodPost, "/api/v1/bookings/"+b.ID.String()+"/status", tok, withJSON(map[string]any{"status": status}))
		requireStatus(t, http.StatusOK, res)
		res.decode(t, &b)
		require.Equal(t, status, b.Status)
	}
}

func TestBookingOnePerCall(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	id := e.insertCall(t, tn, "outbound", "ended", "completed", nil)
	body := map[string]any{"call_id": id, "scheduled_at": time.Now().Add(time.Hour), "customer_name": "Pat"}
	requireStatus(t, http.StatusCreated, e.do(t, http.MethodPost, "/api/v1/bookings", tok, withJSON(body)))
	res := e.do(t, http.MethodPost, "/api/v1/bookings", tok, withJSON(body))
	requireStatus(t, http.StatusConflict, res)
	res.problem(t)
}

func auditActions(items []audit.Entry) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Action
	}
	return out
}
