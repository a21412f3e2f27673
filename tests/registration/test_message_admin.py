def test_progress_queries_do_not_grow_with_recipients(client, organiser, django_assert_num_queries):
    def sent_to(people: int) -> Message:
        conference = ConferenceFactory()
        RegistrationFactory.create_batch(people, conference=conference)
        message = Message.objects.create(conference=conference, statuses=["confirmed"], subject_en="x", body_en="y")
        client.post(url("send", message), {"count": str(people)})
        queue_message(message_id=message.pk)
        return message

    one, many = sent_to(1), sent_to(25)
    with django_assert_num_queries(4) as captured:
        assert client.get(url("progress", one)).json()["queued"] == 1
    with django_assert_num_queries(len(captured.captured_queries)):
        assert client.get(url("progress", many)).json()["queued"] == 25
