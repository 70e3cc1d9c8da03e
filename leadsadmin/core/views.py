from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET


@require_GET
def home(request):
    return redirect("leads:index")


def permission_denied(request, exception=None):
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)
