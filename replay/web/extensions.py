"""Extensions created unbound and bound to the app in the factory."""
from flask_sock import Sock

sock = Sock()
