expectDetail('Current password is incorrect');
