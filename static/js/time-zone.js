// Tells the server the browser's time zone (the "tz" cookie), so every page
// shows and reads date-times in it. Without it the site's TIME_ZONE is used.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  var value = "tz=" + encodeURIComponent(zone);
  if (document.cookie.split("; ").indexOf(value) === -1) {
    document.cookie = value + "; path=/; max-age=31536000; SameSite=Lax";
  }
})();
