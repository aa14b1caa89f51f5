"""Staff access audit: opening a user's personal data in the admin is recorded; superusers see the log."""

from __future__ import annotations

import pytest

from privacy.models import DataSubjectRequest, StaffAccess
from telephony.models import CallLog
from twofactor.testing import force_login_with_two_factor


@pytest.mark.django_db
def test_opening_a_users_privacy_request_in_the_admin_is_recorded(client, staff, alice):
    request = DataSubjectRequest.objects.create(kind="access", user=alice, requester_email=alice.email)
    force_login_with_two_factor(client, staff)
    assert client.get(f"/admin/privacy/datasubjectrequest/{request.pk}/change/").status_code == 200
    access = StaffAccess.objects.get()
    assert (access.staff, access.subject, access.staff_label) == (staff, alice, "support@numfree.com")
    assert access.what == f"Data subject request #{request.pk} (change page)"


@pytest.mark.django_db
def test_opening_a_users_account_in_the_admin_is_recorded(client, staff, alice):
    force_login_with_two_factor(client, staff)
    response = client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert response.status_code == 200
    access = StaffAccess.objects.get()
    assert (access.staff, access.subject) == (staff, alice)
    assert "change page" in access.what and access.accessed_at


@pytest.mark.django_db
def test_opening_another_apps_row_is_attributed_to_its_user_through_the_registry(client, staff, alice):
    from privacy.audit import subject_of

    call = CallLog.objects.create(
        user=alice, kind="phone", direction="in", external_id="CA1", peer_number="+15550001111"
    )
    # Whatever admin page shows it, the declaration leads from the row to Alice.
    assert subject_of(CallLog, str(call.pk)) == alice


@pytest.mark.django_db
def test_the_user_list_records_each_person_it_shows(client, staff, alice, bob):
    force_login_with_two_factor(client, staff)
    assert client.get("/admin/accounts/user/").status_code == 200
    rows = StaffAccess.objects.filter(staff=staff)
    assert set(rows.values_list("subject", flat=True)) == {alice.pk, bob.pk, staff.pk}
    assert set(rows.values_list("what", flat=True)) == {"Users (list)"}


@pytest.mark.django_db
def test_search_results_record_the_people_found_and_only_them(client, staff, alice, bob):
    force_login_with_two_factor(client, staff)
    page = client.get("/admin/accounts/user/", {"q": "alice@"}).content.decode()
    assert "alice@example.com" in page and "bob@example.com" not in page
    access = StaffAccess.objects.get()
    assert (access.subject, access.what) == (alice, "Users (search results)")


@pytest.mark.django_db
def test_the_admin_password_page_records_whose_password_it_is(client, superuser, alice):
    force_login_with_two_factor(client, superuser)
    assert client.get(f"/admin/accounts/user/{alice.pk}/password/").status_code == 200
    access = StaffAccess.objects.get()
    assert (access.subject, access.what) == (alice, f"User #{alice.pk} (password page)")


@pytest.mark.django_db
def test_pages_without_anyones_data_are_not_recorded(client, staff):
    force_login_with_two_factor(client, staff)
    client.get("/admin/")
    client.get("/admin/privacy/policyversion/")
    assert not StaffAccess.objects.exists()


@pytest.mark.django_db
def test_superusers_see_the_access_log_and_other_staff_do_not(client, staff, superuser, alice):
    StaffAccess.objects.create(staff=staff, staff_label=staff.email, subject=alice, what="User #1 (change page)")
    force_login_with_two_factor(client, staff)
    assert client.get("/admin/privacy/staffaccess/").status_code == 403
    force_login_with_two_factor(client, superuser)
    page = client.get("/admin/privacy/staffaccess/").content.decode()
    assert "User #1 (change page)" in page


@pytest.mark.django_db
def test_the_user_sees_the_access_on_their_access_page(client, staff, alice):
    request = DataSubjectRequest.objects.create(kind="access", user=alice, requester_email=alice.email)
    force_login_with_two_factor(client, staff)
    client.get(f"/admin/privacy/datasubjectrequest/{request.pk}/change/")
    client.force_login(alice)
    page = client.get("/privacy/center/").content.decode()
    assert "support@numfree.com" in page
