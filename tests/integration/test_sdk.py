"""The official ``voucherify`` SDK, unmodified, as the client of a running sendout."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import voucherify

from conftest import unique
from support.receiver import Receiver
from support.server import APP_ID, APP_TOKEN, MANAGEMENT_ID, MANAGEMENT_TOKEN, ServerProcess


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[voucherify.ApiClient]:
    config = voucherify.Configuration(
        host=server.base_url,
        api_key={
            "X-App-Id": APP_ID,
            "X-App-Token": APP_TOKEN,
            "X-Management-Id": MANAGEMENT_ID,
            "X-Management-Token": MANAGEMENT_TOKEN,
        },
    )
    with voucherify.ApiClient(config) as api_client:
        yield api_client


def test_customers_round_trip(client: voucherify.ApiClient) -> None:
    customers = voucherify.CustomersApi(client)
    source_id = unique("sdk")
    created = customers.create_customer(
        voucherify.CustomersCreateRequestBody(
            source_id=source_id, name="Alex Doe", metadata={"region": "EMEA"}
        )
    )
    assert created.id.startswith("cust_") and created.object == "customer"
    assert created.source_id == source_id

    fetched = customers.get_customer(source_id)
    assert fetched.id == created.id and fetched.metadata == {"region": "EMEA"}

    updated = customers.update_customer(
        created.id, voucherify.CustomersUpdateRequestBody(email="alex@example.com")
    )
    assert updated.email == "alex@example.com" and updated.name == "Alex Doe"

    listed = customers.list_customers(limit=100, email="alex@example.com")
    assert created.id in [c.id for c in listed.customers]

    customers.delete_customer(created.id)
    with pytest.raises(voucherify.exceptions.NotFoundException):
        customers.get_customer(created.id)


def test_tracking_with_keyword_models_delivers_a_webhook(
    client: voucherify.ApiClient, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema({"source": {"type": "string", "optional": False}})
    path = "/" + unique("sdk")
    make_distribution(schema["name"], receiver.url(path))
    source_id = unique("sdk")

    tracked = voucherify.EventsApi(client).track_custom_event(
        voucherify.EventsCreateRequestBody(
            event=schema["name"],
            customer=voucherify.Customer(source_id=source_id, name="Alex Doe"),
            metadata={"source": "API"},
        )
    )
    assert tracked.object == "event" and tracked.type == schema["name"]
    assert tracked.customer.source_id == source_id
    body = json.loads(receiver.wait_for(path, 1)[0].body)
    assert body["data"]["customer"]["source_id"] == source_id
    assert body["data"]["customer"]["name"] == "Alex Doe"


def test_models_from_dict_send_explicit_nulls_that_mean_absent(
    client: voucherify.ApiClient, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema({"plan": {"type": "string", "optional": True}})
    path = "/" + unique("sdk")
    make_distribution(schema["name"], receiver.url(path))
    source_id = unique("sdk")
    request = voucherify.EventsCreateRequestBody.from_dict(
        {
            "event": schema["name"],
            "customer": {"source_id": source_id, "name": "Sam", "email": None, "address": None},
            "referral": None,
            "loyalty": None,
            "metadata": {"plan": None},
        }
    )
    assert "null" in json.dumps(request.to_dict()) or request.referral is None

    tracked = voucherify.EventsApi(client).track_custom_event(request)
    assert tracked.customer.source_id == source_id
    body = json.loads(receiver.wait_for(path, 1)[0].body)
    assert body["data"]["event"]["metadata"] == {}
    assert body["data"]["customer"]["email"] is None

    created = voucherify.CustomersApi(client).create_customer(
        voucherify.CustomersCreateRequestBody.from_dict(
            {
                "source_id": unique("sdk"),
                "name": "Kim",
                "description": None,
                "metadata": None,
                "address": None,
            }
        )
    )
    assert created.name == "Kim" and created.metadata == {}


def test_management_api_custom_event_schemas(client: voucherify.ApiClient) -> None:
    management = voucherify.ManagementApi(client)
    projects = management.list_projects()
    project_id = projects.data[0].id
    name = unique("sdk_schema")
    body = voucherify.ManagementProjectsCustomEventSchemasCreateRequestBody.from_dict(
        {
            "name": name,
            "schema": {"properties": {"published": {"type": "boolean", "optional": True}}},
        }
    )
    created = management.create_custom_event_schema(project_id, body)
    assert created.id.startswith("ms_") and created.name == name
    listed = management.list_custom_event_schemas(project_id)
    assert name in [s.name for s in listed.data]


def test_errors_reach_the_sdk_as_its_exceptions(client: voucherify.ApiClient) -> None:
    with pytest.raises(voucherify.exceptions.NotFoundException) as caught:
        voucherify.CustomersApi(client).get_customer("cust_doesnotexist0000000000")
    error = json.loads(caught.value.body)
    assert error["key"] == "not_found" and error["request_id"].startswith("v-")

    with pytest.raises(voucherify.exceptions.BadRequestException) as bad:
        voucherify.EventsApi(client).track_custom_event(
            voucherify.EventsCreateRequestBody(
                event=unique("nope"), customer=voucherify.Customer(source_id="x")
            )
        )
    assert json.loads(bad.value.body)["key"] == "unknown_event"
