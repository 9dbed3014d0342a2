// app.js - the page's only script (the Content-Security-Policy allows no
// other): move the keyboard focus to a form's list of errors, so a screen
// reader reads it and the next Tab reaches the first field to correct.
// It builds no markup; everything shown comes from the server, escaped.
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var errors = document.getElementById('errors');
  if (errors) {
    errors.focus();
  }
});
