from allauth.account.auth_backends import AuthenticationBackend

from registration.selectors import users_with_live_registrations


class RegistrationAwareBackend(AuthenticationBackend):
    """allauth's login by email, which loads the session's user together with their live
    registrations: the header of every conference page shows the visitor's registration,
    and this keeps it to the one query a logged-in page already costs for its user."""

    def get_user(self, user_id):
        user = users_with_live_registrations().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
