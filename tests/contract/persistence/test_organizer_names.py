"""The organizers' names behind the public cards, on every backend."""

from __future__ import annotations

from platform_core.profiles.model import OrganizerProfile
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWorkFactory
from tests.contract.persistence.support import NOW, a_user, store


async def test_names_of_a_page_come_in_one_call_and_unknown_ids_are_left_out(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = a_user(first_name="Ada", last_name="Lovelace")
    plato = a_user(first_name="Plato", last_name="")
    await store(uow_factory, ada, plato)

    async with uow_factory() as uow:
        names = await uow.events.organizer_names([ada.id, plato.id, ada.id, new_id()])
        nobody = await uow.events.organizer_names([])

    assert dict(names) == {ada.id: "Ada Lovelace", plato.id: "Plato"}
    assert dict(nobody) == {}


async def test_an_organizer_with_a_profile_is_named_by_the_organization(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = a_user(first_name="Ada", last_name="Lovelace")
    await store(uow_factory, ada)
    async with uow_factory() as uow:
        await uow.organizer_profiles.add(
            OrganizerProfile(
                user_id=ada.id,
                organization_name="Analytical Engines Ltd",
                slug="analytical-engines",
                created_at=NOW,
            )
        )
        await uow.commit()

    async with uow_factory() as uow:
        names = await uow.events.organizer_names([ada.id])

    assert dict(names) == {ada.id: "Analytical Engines Ltd"}
